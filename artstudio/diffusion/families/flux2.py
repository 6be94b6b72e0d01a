"""FLUX.2 Klein: Black Forest Labs' small FLUX.2 (4B and 9B), a double- and
single-stream transformer on a 32-channel VAE, conditioned on Qwen3.

Klein comes step-distilled (4 steps, no guidance) and as a base model (CFG);
a diffusers folder says which (`is_distilled` in model_index.json), a
transformer file cannot, so the artist is asked once. Its pipelines take no
negative prompt. diffusers has no image-to-image pipeline for Klein with a
strength: image-to-image runs through its inpainting pipeline with the whole
picture masked (sampling does so for any image-to-image pipeline that takes a
mask). FLUX.2 dev (Mistral-conditioned) is recognised and refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artstudio.diffusion.families.spec import (
    FamilySpec,
    FolderConfigs,
    LatentSpace,
    Recognised,
    Variant,
)
from artstudio.engine.errors import UserFacingError

PREFIXES = ("model.diffusion_model.", "")
MARKER = "single_stream_modulation.lin.weight"
DEV_TEXT_WIDTH = 15360  # FLUX.2 dev reads three Mistral layers of 5120
SAMPLER = "flow_euler"
DISTILLED, BASE = "distilled", "base"  # in Variant.prediction: what the file may say
DEV_NOTE = "FLUX.2 dev is not supported (only FLUX.2 Klein)"


def recognise_checkpoint(shapes: Mapping[str, tuple[int, ...]]) -> Recognised | None:
    prefix = next((p for p in PREFIXES if p + MARKER in shapes), None)
    if prefix is None:
        return None
    text_in = shapes.get(prefix + "txt_in.weight", ())
    if len(text_in) == 2 and text_in[1] == DEV_TEXT_WIDTH:
        return "unknown", "", [DEV_NOTE]
    return "flux2-klein", "", ["the transformer alone: its Qwen3 text encoder and FLUX.2 VAE "
                               "come as split components"]


def recognise_folder(configs: FolderConfigs) -> Recognised | None:
    if configs.component("transformer").get("_class_name") != "Flux2Transformer2DModel":
        return None
    if str(configs.index.get("_class_name", "")) == "Flux2Pipeline":
        return "unknown", "", [DEV_NOTE]
    return "flux2-klein", DISTILLED if configs.index.get("is_distilled") else BASE, []


def assemble_single_file(state: dict, config_dir: Path, index: dict, variant: Variant, dtype,
                         checkpoint: Path) -> dict[str, Any]:
    raise UserFacingError(
        f"{checkpoint.name} holds FLUX.2 Klein's transformer alone; load it as a diffusers "
        "folder, or with its Qwen3 text encoder and VAE as split components.")


# No preview factors: the 32 channels arrive as 2x2 patches of normalised latents,
# which no published fit covers; previews come from a TAESD decoder or not at all.
KLEIN_LATENTS = LatentSpace(channels=32, preview_factors=(), patch=2)

FLUX2_KLEIN = FamilySpec(
    name="flux2", label="FLUX.2 Klein", latent=KLEIN_LATENTS,
    pipelines={"txt2img": "Flux2KleinPipeline", "img2img": "Flux2KleinInpaintPipeline",
               "inpaint": "Flux2KleinInpaintPipeline"},
    variants=(
        # Black Forest Labs' model card: 4 steps, guidance 1 (unused by the distilled model).
        Variant("flux2-klein", "flux2-klein", "Klein (4 steps, distilled)", 1024,
                prediction=DISTILLED, steps=4, guidance=1.0),
        Variant("flux2-klein-base", "flux2-klein", "Klein base (guided)", 1024,
                prediction=BASE, steps=50, guidance=4.0),
    ),
    recognise_checkpoint=recognise_checkpoint, recognise_folder=recognise_folder,
    assemble_single_file=assemble_single_file, denoiser="transformer",
    default_sampler=SAMPLER, samplers=(SAMPLER,), negative_prompt=False,
    prompt_outputs=("prompt_embeds", ""),
)
