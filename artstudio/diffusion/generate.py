"""Text-to-image, image-to-image, inpainting and outpainting with Stable Diffusion.

Every entry point has the engine's job shape `run(params, progress, cancel)`:
`params` is a frozen GenerationParams snapshot, `progress(step, total,
message, preview)` gets a latent preview each step, and cancellation is
noticed within one step. The pipeline always returns latents
(`output_type="latent"`) and we decode them ourselves, so a cancelled run
never pays for a VAE decode, and an fp16 decode that gives NaN is retried in
fp32 once and remembered.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.diffusion import masking, metadata, previews, schedulers
from artstudio.diffusion.loading import LoadedModel, get_model, pipeline_for
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.errors import UserFacingError

log = logging.getLogger(__name__)

SEED_MODES = ("increment", "fixed", "random")
MODES = ("txt2img", "img2img", "inpaint", "outpaint")
TILE_VAE_ABOVE = 1536 * 1536  # pixels; VAE decode memory grows with area


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
    variant: str | None = None  # config variant when detection cannot tell (SD2)
    device: str = "auto"
    precision: str = "auto"
    cpu_offload: str = "auto"  # "auto" (CUDA < 6 GB), "on" or "off"
    preview_every: int = 1  # steps between previews; 0 for none
    preview_decoder: str | None = None  # a TAESD folder for sharper previews (previews.find_taesd)

    @property
    def mode(self) -> str:
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


def round_size(width: int, height: int) -> tuple[int, int, str]:
    """Sizes must be multiples of 8 (the VAE halves the image three times)."""
    w, h = max(8, int(width) // 8 * 8), max(8, int(height) // 8 * 8)
    note = f"Size rounded from {width}x{height} to {w}x{h} (multiples of 8)." if (
        (w, h) != (width, height)) else ""
    return w, h, note


def check_params(p: GenerationParams) -> None:
    """Clear errors early, before a model is loaded (diffusers' habit)."""
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
    if p.outpaint and any(v < 0 for v in p.outpaint):
        raise UserFacingError("Outpainting sizes must not be negative.")


def seeds_for(p: GenerationParams) -> list[int]:
    base = p.seed if p.seed is not None else secrets.randbelow(2**32)
    if p.seed_mode == "fixed":
        return [base] * p.count
    if p.seed_mode == "random":
        return [base] + [secrets.randbelow(2**32) for _ in range(p.count - 1)]
    return [(base + i) % 2**32 for i in range(p.count)]


# ---- one denoising run -------------------------------------------------------------

class _StepReporter:
    """The pipeline callback: progress, previews and cancellation at each step."""

    def __init__(self, progress, cancel: CancelToken, family: str, offset: int, total: int,
                 every: int, message: str, decoder=None):
        self.progress, self.cancel, self.family = progress, cancel, family
        self.decoder = decoder
        self.offset, self.total, self.every, self.message = offset, total, every, message
        self.cancelled = False

    def __call__(self, pipe, i: int, t, kwargs: dict) -> dict:
        if self.cancel.cancelled:
            self._stop(pipe)
            return {}
        preview = None
        if self.every and (i + 1) % self.every == 0 and "latents" in kwargs:
            try:
                if self.decoder is not None:
                    preview = self.decoder(kwargs["latents"])
                else:
                    preview = previews.latents_to_rgb(kwargs["latents"], self.family)
            except (ValueError, RuntimeError, OSError):  # a latent space without factors,
                preview = None  # or a TAESD that does not fit: previews are optional
        try:
            step = min(self.offset + i + 1, self.total)
            self.progress(step, self.total, self.message, preview)
        except Cancelled:
            # Raising here would skip the pipeline's offload-hook cleanup; stop it instead.
            self._stop(pipe)
        return {}

    def _stop(self, pipe) -> None:
        self.cancelled = True
        pipe._interrupt = True


def _effective_steps(steps: int, strength: float, mode: str) -> int:
    if mode == "txt2img":
        return steps
    return max(1, min(int(steps * strength), steps))


def _pil(arr: np.ndarray):
    from PIL import Image

    return Image.fromarray(arr, "RGB")


def _denoise(model: LoadedModel, mode: str, p: GenerationParams, seed: int, width: int,
             height: int, reporter: _StepReporter, image: np.ndarray | None = None,
             mask: np.ndarray | None = None):
    """Run the pipeline to latents; None when cancelled."""
    import torch

    pipe = pipeline_for(model, mode if mode != "outpaint" else "inpaint")
    pipe.scheduler = schedulers.make_scheduler(p.scheduler, model.pipe.scheduler.config)
    generator = torch.Generator("cpu").manual_seed(int(seed))
    kwargs: dict[str, Any] = dict(
        prompt=p.prompt, negative_prompt=p.negative_prompt or None,
        num_inference_steps=p.steps, guidance_scale=p.cfg_scale, generator=generator,
        width=width, height=height, output_type="latent",
        callback_on_step_end=reporter, callback_on_step_end_tensor_inputs=["latents"],
    )
    strength = p.strength
    if model.is_inpaint_model and mode in ("txt2img", "img2img"):
        # A 9-channel UNet always works through the inpainting pipeline: repaint everything.
        if image is None:
            image = np.full((height, width, 3), 127, np.uint8)
            strength = 1.0
        mask = np.ones((height, width), np.float32)
        mode = "inpaint"
    if mode != "txt2img":
        kwargs["image"] = _pil(image)
        kwargs["strength"] = strength
    if mode in ("inpaint", "outpaint"):
        from PIL import Image

        kwargs["mask_image"] = Image.fromarray((mask * 255).round().astype(np.uint8), "L")
    if mode == "img2img":
        kwargs.pop("width"), kwargs.pop("height")
    model.pipe.vae.disable_tiling()
    if width * height > TILE_VAE_ABOVE:
        model.pipe.vae.enable_tiling()
    with torch.inference_mode():
        out = pipe(**kwargs)
    if reporter.cancelled:
        return None
    return out.images


def decode_latents(model: LoadedModel, latents) -> list[np.ndarray]:
    """Latents -> RGB uint8 arrays. fp16 VAEs (SDXL's above all) can overflow to
    NaN or black; then decode again in fp32 and keep the VAE in fp32."""
    import torch

    vae = model.pipe.vae
    cfg = vae.config
    mean, std = getattr(cfg, "latents_mean", None), getattr(cfg, "latents_std", None)
    if mean is not None and std is not None:
        shape = (1, len(mean), 1, 1)
        lat = latents * torch.tensor(std).view(shape).to(latents) / cfg.scaling_factor + \
            torch.tensor(mean).view(shape).to(latents)
    else:
        lat = latents / cfg.scaling_factor
    if vae.dtype == torch.float16 and (model.vae_fp32 or getattr(cfg, "force_upcast", False)):
        vae.to(torch.float32)
    with torch.inference_mode():
        image = vae.decode(lat.to(vae.dtype), return_dict=False)[0]
        if vae.dtype == torch.float16 and (not torch.isfinite(image).all() or image.max() <= -0.99):
            log.warning("fp16 VAE decode failed (NaN or black); decoding in fp32 from now on")
            model.vae_fp32 = True
            vae.to(torch.float32)
            image = vae.decode(lat.to(torch.float32), return_dict=False)[0]
    image = (image.float() / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    return [np.rint(im * 255).astype(np.uint8) for im in image]


# ---- modes ----------------------------------------------------------------------------

def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if arr.shape[1] == size[0] and arr.shape[0] == size[1]:
        return arr
    shrink = size[0] < arr.shape[1]
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)


def _work_size(w: int, h: int, limit_w: int, limit_h: int) -> tuple[int, int]:
    """The init image's size, shrunk to fit the requested size, in multiples of 8."""
    scale = min(1.0, max(limit_w, limit_h) / max(w, h))
    return max(8, int(w * scale) // 8 * 8), max(8, int(h * scale) // 8 * 8)


def _generate_one(model: LoadedModel, p: GenerationParams, seed: int, reporter: _StepReporter,
                  width: int, height: int) -> tuple[np.ndarray, dict[str, Any]] | None:
    mode = p.mode
    if mode == "txt2img":
        lat = _denoise(model, mode, p, seed, width, height, reporter)
        return None if lat is None else (decode_latents(model, lat)[0], {})
    original = masking.to_rgb_array(p.init_image)
    oh, ow = original.shape[:2]
    if mode == "img2img":
        ww, wh = _work_size(ow, oh, width, height)
        lat = _denoise(model, mode, p, seed, ww, wh, reporter, image=_resize(original, (ww, wh)))
        return None if lat is None else (decode_latents(model, lat)[0], {})
    if mode == "outpaint":
        left, top, right, bottom = p.outpaint or (0, 0, 0, 0)
        original, mask = masking.extend_canvas(original, left, top, right, bottom, seed=seed)
        oh, ow = original.shape[:2]
        extra = {"outpaint": [left, top, right, bottom]}
        only_masked = False
    else:
        mask = masking.to_mask_array(p.mask, (ow, oh))
        extra = {}
        only_masked = p.only_masked
    if not (mask > 0.01).any():
        raise UserFacingError("The mask is empty: paint the area to change first.")
    if only_masked:
        raw = masking.mask_crop_box(mask, p.mask_padding)
        aspect = float(np.clip(raw.width / raw.height, 0.5, 2.0))
        box = masking.mask_crop_box(mask, p.mask_padding, aspect)
        region = original[box.top:box.bottom, box.left:box.right]
        region_mask = mask[box.top:box.bottom, box.left:box.right]
        ww, wh = masking.fit_to_resolution(box.width, box.height, model.native_size)
        extra["crop"] = [box.left, box.top, box.right, box.bottom]
    else:
        box, region, region_mask = None, original, mask
        ww, wh = _work_size(ow, oh, max(width, ow) if mode == "outpaint" else width,
                            max(height, oh) if mode == "outpaint" else height)
    small_img = _resize(region, (ww, wh))
    small_mask = _resize(region_mask, (ww, wh))
    lat = _denoise(model, "inpaint", p, seed, ww, wh, reporter, image=small_img, mask=small_mask)
    if lat is None:
        return None
    generated = _resize(decode_latents(model, lat)[0], (region.shape[1], region.shape[0]))
    generated = masking.colour_match(generated, region, region_mask)
    alpha = masking.feathered_alpha(region_mask, p.mask_blur)
    pasted = masking.composite(region, generated, alpha)
    if box is None:
        return pasted, extra
    result = original.copy()
    result[box.top:box.bottom, box.left:box.right] = pasted
    return result, extra


def _metadata(p: GenerationParams, model: LoadedModel, seed: int, width: int, height: int,
              extra: dict[str, Any]) -> dict[str, Any]:
    from artstudio import __version__ as app_version

    meta = {
        "app_version": app_version, "mode": p.mode, "prompt": p.prompt,
        "negative_prompt": p.negative_prompt, "steps": p.steps, "cfg_scale": p.cfg_scale,
        "seed": seed, "seed_mode": p.seed_mode, "width": width, "height": height,
        "scheduler": p.scheduler, "variant": model.variant,
        "model": {"name": model.info.name, "path": str(model.info.path),
                  "hash": model.info.short_hash, "kind": model.info.kind},
        "device": model.device.describe(),
    }
    if p.mode != "txt2img":
        meta["strength"] = p.strength
    if p.mode in ("inpaint", "outpaint"):
        meta.update(mask_blur=p.mask_blur, mask_padding=p.mask_padding,
                    only_masked=p.only_masked)
    meta.update(extra)
    return meta


def run(params: GenerationParams, progress, cancel: CancelToken) -> GenerationResult:
    """Generate `params.count` images. Raises Cancelled when cancelled."""
    check_params(params)
    width, height, note = round_size(params.width, params.height)
    notes = [note] if note else []
    progress(0, 1, "Loading the model")
    model = get_model(params.model, params.variant, params.device, params.precision,
                      params.cpu_offload)
    cancel.raise_if_cancelled()
    per_image = _effective_steps(params.steps, params.strength, params.mode)
    if model.is_inpaint_model and params.mode == "txt2img":
        per_image = params.steps
    total = per_image * params.count
    decoder = previews.TaesdPreview(params.preview_decoder) if params.preview_decoder else None
    images, infos = [], []
    for index, seed in enumerate(seeds_for(params)):
        cancel.raise_if_cancelled()
        message = f"Image {index + 1} of {params.count}" if params.count > 1 else ""
        reporter = _StepReporter(progress, cancel, model.family, index * per_image, total,
                                 params.preview_every, message, decoder)
        made = _generate_one(model, params, seed, reporter, width, height)
        if made is None:
            raise Cancelled()
        arr, extra = made
        h, w = arr.shape[:2]
        images.append(_pil(arr))
        infos.append(ImageInfo(seed, w, h, _metadata(params, model, seed, w, h, extra)))
    progress(total, total, "Done")
    return GenerationResult(images=images, infos=infos, notes=notes)


def generate_to_files(params: GenerationParams, out: str | Path, progress=None,
                      cancel: CancelToken | None = None) -> list[Path]:
    """For the command line: generate and write PNGs with metadata. `out` is a
    folder (files named <seed>.png, never overwriting) or, for one image, a
    .png path."""
    progress = progress or (lambda *a, **k: None)
    result = run(params, progress, cancel or CancelToken())
    out = Path(out)
    written = []
    for image, info in zip(result.images, result.infos, strict=True):
        if out.suffix.lower() == ".png" and len(result.images) == 1:
            target = out
            target.parent.mkdir(parents=True, exist_ok=True)
        else:
            out.mkdir(parents=True, exist_ok=True)
            target = out / f"{info.seed}.png"
            n = 1
            while target.exists():
                target = out / f"{info.seed}-{n}.png"
                n += 1
        written.append(metadata.save_png(image, target, info.metadata))
    return written


def params_dict(params: GenerationParams) -> dict[str, Any]:
    """The plain settings of a request (no images), e.g. for presets."""
    skip = ("init_image", "mask")
    return {f.name: getattr(params, f.name) for f in fields(params) if f.name not in skip}
