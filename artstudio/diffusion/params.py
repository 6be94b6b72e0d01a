"""One generation request and its result, checked before any model loads.

GenerationParams is the frozen snapshot the GUI thread (or the command line)
hands to a job; its field defaults are the defaults everywhere (the Generate
panel and `artstudio generate` read them from here).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, fields
from typing import Any

from artstudio.control.regions import RegionSpec
from artstudio.control.spec import ControlSpec, ReferenceSpec, check_guidance
from artstudio.diffusion import loras, metadata, schedulers
from artstudio.engine.errors import UserFacingError

SEED_MODES = ("increment", "fixed", "random")


@dataclass(frozen=True)
class GenerationParams:
    """One generation request, snapshotted on the GUI thread.

    Images are PIL images or numpy arrays (the caller passes copies). A mask is
    white (or 1.0) where the image should be repainted."""

    model: str
    prompt: str = ""
    negative_prompt: str = ""
    steps: int = 20
    cfg_scale: float = 7.0
    seed: int | None = None  # None: a random seed, reported in the result
    seed_mode: str = "increment"  # next images use seed+1, +2 ... / the same / random
    width: int = 512
    height: int = 512
    count: int = 1
    scheduler: str = schedulers.DEFAULT_SAMPLER
    init_image: Any = None
    strength: float = 0.75  # how much of the init image is re-imagined (0..1)
    mask: Any = None
    mask_blur: int = 4
    mask_padding: int = 32
    only_masked: bool = False  # work on the mask's surroundings at the model's resolution
    outpaint: tuple[int, int, int, int] | None = None  # pixels added left, top, right, bottom
    edit: bool = False  # init_image changed as the prompt instructs (FLUX.1 Kontext)
    variant: str | None = None  # config variant when detection cannot tell (SD2)
    # A split model's parts named instead of those found beside it (see component_sets).
    text_encoders: tuple[str, ...] = ()
    vae: str | None = None
    # LoRAs as (file or name, weight), joined by the prompt's <lora:name:w> tags; embedding folders
    loras: tuple[tuple[str, float], ...] = ()
    embedding_dirs: tuple[str, ...] = ()
    # Control layers, regions and reference images: guidance from the canvas (artstudio.control)
    controls: tuple[ControlSpec, ...] = ()
    regions: tuple[RegionSpec, ...] = ()
    references: tuple[ReferenceSpec, ...] = ()
    # Assists (issue 20): a texture that wraps around; the prompt before an expansion.
    tileable: bool = False
    original_prompt: str = ""
    device: str = "auto"
    precision: str = "auto"
    cpu_offload: str = "auto"  # "auto" (CUDA < 6 GB), "on" or "off"
    preview_every: int = 1  # steps between previews; 0 for none
    preview_decoder: str | None = None  # a TAESD folder for sharper previews (previews.find_taesd)

    @property
    def mode(self) -> str:
        if self.edit:
            return "edit"
        if self.outpaint and any(self.outpaint):
            return "outpaint"
        if self.mask is not None:
            return "inpaint"
        if self.init_image is not None:
            return "img2img"
        return "txt2img"


@dataclass(frozen=True)
class ImageInfo:
    seed: int
    width: int
    height: int
    metadata: dict[str, Any]  # what metadata.png_info writes

    @property
    def parameters(self) -> str:
        return metadata.a1111_text(self.metadata)


@dataclass
class GenerationResult:
    images: list[Any]  # PIL RGB images
    infos: list[ImageInfo]
    notes: list[str] = field(default_factory=list)  # adjustments worth telling the artist
    # Per image, for inpainting and outpainting: only what was repainted, an
    # RGBA array with the feathered mask as alpha (None for the other modes).
    repaints: list[Any] = field(default_factory=list)


def round_size(width: int, height: int, multiple: int = 8) -> tuple[int, int, str]:
    """Sizes must be multiples of 8 (the VAE halves the image three times), or
    of the family's LatentSpace.size_multiple (16 where latents go in 2x2 patches)."""
    w = max(multiple, int(width) // multiple * multiple)
    h = max(multiple, int(height) // multiple * multiple)
    note = f"Size rounded from {width}x{height} to {w}x{h} (multiples of {multiple})." if (
        (w, h) != (width, height)) else ""
    return w, h, note


MAX_SIDE = 8192  # pixels: a latent of this size already needs tens of GB to denoise
MAX_SEED = 2**32 - 1  # torch generators take 64 bits, but A1111 and our metadata 32


def check_params(p: GenerationParams) -> None:
    """Clear errors early, before a model is loaded (diffusers' habit): a
    value out of range is refused, never clamped or wrapped."""
    for name, side in (("Width", p.width), ("Height", p.height)):
        if not 8 <= side <= MAX_SIDE:
            raise UserFacingError(f"{name} must be between 8 and {MAX_SIDE} pixels, not {side}.")
    if not math.isfinite(p.cfg_scale) or p.cfg_scale < 0:
        raise UserFacingError(f"The guidance scale (CFG) must be a number of 0 or more, "
                              f"not {p.cfg_scale}.")
    if p.seed is not None and not 0 <= p.seed <= MAX_SEED:
        raise UserFacingError(f"A seed must be between 0 and {MAX_SEED}, not {p.seed}.")
    if p.steps < 1 or p.steps > 1000:
        raise UserFacingError("Steps must be between 1 and 1000.")
    if p.count < 1:
        raise UserFacingError("The number of images must be at least 1.")
    if p.seed_mode not in SEED_MODES:
        raise UserFacingError(f"Unknown seed mode {p.seed_mode!r}.")
    schedulers.spec(p.scheduler)
    if not 0.0 < p.strength <= 1.0 and p.mode != "txt2img":
        raise UserFacingError("Strength must be above 0 and at most 1.")
    if p.mode in ("inpaint", "outpaint") and p.init_image is None:
        raise UserFacingError("Inpainting and outpainting need an image.")
    if p.mode == "edit" and (p.init_image is None or not p.prompt.strip()):
        raise UserFacingError("Edit needs a picture and an instruction (\"make it night\").")
    if p.outpaint and any(v < 0 for v in p.outpaint):
        raise UserFacingError("Outpainting sizes must not be negative.")
    loras.check_fields(p.loras, p.embedding_dirs)
    check_guidance(p)


def seeds_for(p: GenerationParams) -> list[int]:
    base = p.seed if p.seed is not None else secrets.randbelow(2**32)
    if p.seed_mode == "fixed":
        return [base] * p.count
    if p.seed_mode == "random":
        return [base] + [secrets.randbelow(2**32) for _ in range(p.count - 1)]
    return [(base + i) % 2**32 for i in range(p.count)]


def params_dict(params: GenerationParams) -> dict[str, Any]:
    """The plain settings of a request (no images), e.g. for presets."""
    skip = ("init_image", "mask", "controls", "regions", "references")
    return {f.name: getattr(params, f.name) for f in fields(params) if f.name not in skip}
