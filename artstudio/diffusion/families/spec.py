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
    only_note: str = ""  # why modes are limited, shown when another mode is asked for
    zero_snr: bool = False  # trained on a zero-terminal-SNR schedule (v-prediction SDXL)


@dataclass(frozen=True)
class LatentSpace:
    """A VAE's latent space, shared by families trained on the same VAE."""

    channels: int
    # 4-to-3 linear map for step previews (ComfyUI's fits against real decodes)
    preview_factors: tuple[tuple[float, float, float], ...]
    preview_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # TAESD decoders of this latent space, by the folder or hub repository names they come as
    taesd_names: tuple[str, ...] = ()


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
    negative_prompt: bool = True
    # What the pipeline's encode_prompt returns, in order, named as its __call__
    # takes them back (latent interpolation mixes every one of them).
    prompt_outputs: tuple[str, ...] = ("prompt_embeds", "negative_prompt_embeds")

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.kind for v in self.variants))

    def variants_of(self, kind: str) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.kind == kind)

    def native_size(self, pipe: Any, variant: Variant) -> int:
        """The side the loaded model was trained at: its denoiser's sample size
        times the VAE's scale (64 for the tests' tiny models), else the variant's."""
        config = getattr(getattr(pipe, self.denoiser, None), "config", None)
        sample = getattr(config, "sample_size", None)
        scale = getattr(pipe, "vae_scale_factor", None)
        if isinstance(sample, int) and isinstance(scale, int):
            return sample * scale
        return variant.size
