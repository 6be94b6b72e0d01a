"""What Artstudio knows about one model family, in one place.

A family is a set of checkpoints that share an architecture and a latent
space (SD 1.x, SD 2.x, SDXL). Everything that differs between families and
that the rest of the code would otherwise branch on by name lives in its
FamilySpec: the variants and their shipped configs, native sizes, the latent
space (channels, preview factors, TAESD decoders), which diffusers pipeline
class serves which mode, how a checkpoint is recognised and how a single
file is assembled into a pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODES = ("txt2img", "img2img", "inpaint", "outpaint")
# Modes only some variants have, listed in their `modes` (FLUX.1 Kontext's instruction edit).
EDIT = "edit"
ALL_MODES = (*MODES, EDIT)

# (kind, prediction, notes) when a recogniser knows the file; None when it is not its family.
Recognised = tuple[str, str, list[str]]


@dataclass(frozen=True)
class Variant:
    """One configuration of a family: what a shipped config folder
    (artstudio/data/diffusion_configs/<name>) describes."""

    name: str  # stable id in settings, metadata and the command line ("sd2-v")
    kind: str  # the identified kind it loads ("sd2"): several variants may share one
    label: str  # for the artist, when the file cannot tell which variant it is
    size: int  # the side it was trained at, in pixels
    prediction: str = "epsilon"  # "epsilon" or "v_prediction"
    inpaint: bool = False  # a 9-channel UNet: every mode runs through the inpainting pipeline
    modes: tuple[str, ...] = MODES
    # The pipeline class the variant loads as when it is not the family's
    # text-to-image one (FLUX.1 Fill, Kontext); an inpaint variant without one
    # loads as the family's inpaint pipeline.
    pipeline: str = ""
    only_note: str = ""  # why modes are limited, shown when another mode is asked for
    # What the panel and the command line start from for this variant.
    steps: int = 20
    guidance: float = 7.0  # the CFG scale, or the distilled guidance (FamilySpec.guidance)


@dataclass(frozen=True)
class LatentSpace:
    """A VAE's latent space, shared by families trained on the same VAE."""

    channels: int
    # 4-to-3 linear map for step previews (ComfyUI's fits against real decodes)
    preview_factors: tuple[tuple[float, float, float], ...]
    preview_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # TAESD decoders of this latent space, by the folder or hub repository names they come as
    taesd_names: tuple[str, ...] = ()
    # The pipeline hands latents around as a sequence of patch x patch pixels of
    # latent (FLUX: 2, [B, h/2 * w/2, C*4]); 1 for the plain [B, C, h, w].
    patch: int = 1

    @property
    def size_multiple(self) -> int:
        """Picture sides must be multiples of this (the VAE's 8 times the patch)."""
        return 8 * self.patch

    def unpack(self, latents: Any, height: int, width: int, vae_scale: int) -> Any:
        """The pipeline's latents of a `width` x `height` picture as [B, C, h, w]."""
        if self.patch == 1 or latents.ndim == 4:
            return latents
        p = self.patch
        b, _seq, _c = latents.shape
        h, w = height // (vae_scale * p), width // (vae_scale * p)
        lat = latents.view(b, h, w, self.channels, p, p).permute(0, 3, 1, 4, 2, 5)
        return lat.reshape(b, self.channels, h * p, w * p)

    def pack(self, latents: Any) -> Any:
        """[B, C, h, w] latents as the pipeline takes them (the inverse of unpack)."""
        if self.patch == 1:
            return latents
        p = self.patch
        b, c, h, w = latents.shape
        lat = latents.view(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
        return lat.reshape(b, (h // p) * (w // p), c * p * p)


@dataclass(frozen=True)
class FolderConfigs:
    """The JSON files of a diffusers folder, read once by identification."""

    index: Mapping[str, Any]  # model_index.json
    components: Mapping[str, Mapping[str, Any]]  # subfolder -> its config.json
    scheduler: Mapping[str, Any]

    def component(self, name: str) -> Mapping[str, Any]:
        return self.components.get(name, {})


# assemble(state, config_dir, index, variant, dtype, checkpoint) -> pipeline
Assembler = Callable[[dict, Path, dict, Variant, Any, Path], Any]


@dataclass(frozen=True)
class FamilySpec:
    name: str  # "sd1", stable in settings and metadata
    label: str  # "Stable Diffusion 1.x"
    variants: tuple[Variant, ...]
    latent: LatentSpace
    # mode -> diffusers pipeline class; derived pipelines share the loaded modules (from_pipe)
    pipelines: Mapping[str, str]
    recognise_checkpoint: Callable[[Mapping[str, tuple[int, ...]]], Recognised | None]
    recognise_folder: Callable[[FolderConfigs], Recognised | None]
    assemble_single_file: Assembler
    denoiser: str = "unet"  # the pipeline attribute (and diffusers subfolder) of the denoiser
    default_sampler: str = "euler_a"
    # The samplers (schedulers.SAMPLERS ids) that fit the family's training
    # schedule; empty: every noise-prediction sampler (SD's).
    samplers: tuple[str, ...] = ()
    negative_prompt: bool = True
    # "cfg": classifier-free guidance, the scale weighs the prompt against the
    # negative one; "distilled": the model takes the guidance as an input
    # (FLUX.1 dev), one pass per step and no negative prompt.
    guidance: str = "cfg"
    # What the pipeline's encode_prompt returns, in order, named as its __call__
    # takes them back (latent interpolation mixes every one of them); "" for an
    # output __call__ does not take (FLUX's text ids, rebuilt from the prompt).
    prompt_outputs: tuple[str, ...] = ("prompt_embeds", "negative_prompt_embeds")

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.kind for v in self.variants))

    def variants_of(self, kind: str) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.kind == kind)

    def sampler_for(self, name: str) -> str:
        """`name` when it fits the family, else the family's own sampler."""
        return name if not self.samplers or name in self.samplers else self.default_sampler

    def defaults(self, variant: Variant) -> dict[str, Any]:
        """GenerationParams fields a new request for `variant` starts from."""
        return {"width": variant.size, "height": variant.size, "steps": variant.steps,
                "cfg_scale": variant.guidance, "scheduler": self.default_sampler}

    def native_size(self, pipe: Any, variant: Variant) -> int:
        """The side the loaded model was trained at: its denoiser's sample size
        times the VAE's scale (64 for the tests' tiny models), else the variant's."""
        config = getattr(getattr(pipe, self.denoiser, None), "config", None)
        sample = getattr(config, "sample_size", None)
        scale = getattr(pipe, "vae_scale_factor", None)
        if isinstance(sample, int) and isinstance(scale, int):
            return sample * scale
        return variant.size
