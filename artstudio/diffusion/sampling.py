"""One denoising run: the pipeline call, step progress with previews,
cancellation within a step, and our own VAE decode.

The pipeline always returns latents (`output_type="latent"`) and we decode
them ourselves, so a cancelled run never pays for a VAE decode, and an fp16
decode that gives NaN is retried in fp32 once and remembered.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import numpy as np

from artstudio.control import apply as control_apply
from artstudio.control.references import reference_images
from artstudio.control.regions import regional_attention
from artstudio.diffusion import previews, prompt_extras, schedulers
from artstudio.diffusion.loading import LoadedModel, pipeline_for
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import Cancelled, CancelToken

log = logging.getLogger(__name__)

TILE_VAE_ABOVE = 1536 * 1536  # pixels; VAE decode memory grows with area


class StepReporter:
    """The pipeline callback: progress, previews and cancellation at each step."""

    def __init__(self, progress, cancel: CancelToken, family: str, offset: int, total: int,
                 every: int, message: str, decoder=None):
        self.progress, self.cancel, self.family = progress, cancel, family
        self.decoder = decoder
        self.offset, self.total, self.every, self.message = offset, total, every, message
        self.cancelled = False
        self.unpack = None  # set by denoise: the family's latents as [B, C, h, w]

    def __call__(self, pipe, i: int, t, kwargs: dict) -> dict:
        if self.cancel.cancelled:
            self._stop(pipe)
            return {}
        preview = None
        if self.every and (i + 1) % self.every == 0 and "latents" in kwargs:
            try:
                latents = kwargs["latents"]
                if self.unpack is not None:
                    latents = self.unpack(latents)
                if self.decoder is not None:
                    preview = self.decoder(latents)
                else:
                    preview = previews.latents_to_rgb(latents, self.family)
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


def effective_steps(steps: int, strength: float, mode: str) -> int:
    if mode in ("txt2img", "edit"):
        return steps
    return max(1, min(int(steps * strength), steps))


def to_pil(arr: np.ndarray):
    from PIL import Image

    return Image.fromarray(arr, "RGB")


def denoise(model: LoadedModel, mode: str, p: GenerationParams, seed: int, width: int,
             height: int, reporter: StepReporter, image: np.ndarray | None = None,
             mask: np.ndarray | None = None, overrides: dict[str, Any] | None = None):
    """Run the pipeline to latents as [B, C, h, w] (unpacked where the family
    packs them); None when cancelled. `overrides` replace the pipeline
    arguments made here (interpolation passes its own initial latents, prompt
    embeddings and generators; embeddings replace the prompts)."""
    import torch

    spec = model.family_spec
    pipe = pipeline_for(model, mode if mode != "outpaint" else "inpaint")
    pipe.scheduler = schedulers.make_scheduler(spec.sampler_for(p.scheduler),
                                               model.pipe.scheduler.config)
    generator = torch.Generator("cpu").manual_seed(int(seed))
    kwargs: dict[str, Any] = dict(
        prompt=p.prompt,
        num_inference_steps=p.steps, guidance_scale=p.cfg_scale, generator=generator,
        width=width, height=height, output_type="latent",
        callback_on_step_end=reporter, callback_on_step_end_tensor_inputs=["latents"],
    )
    if spec.negative_prompt:
        kwargs["negative_prompt"] = p.negative_prompt or None
    scale = int(getattr(model.pipe, "vae_scale_factor", 8))
    reporter.unpack = lambda lat: spec.latent.unpack(lat, height, width, scale)
    strength = p.strength
    if model.is_inpaint_model and mode in ("txt2img", "img2img"):
        # A 9-channel UNet always works through the inpainting pipeline: repaint everything.
        if image is None:
            image = np.full((height, width, 3), 127, np.uint8)
            strength = 1.0
        mask = np.ones((height, width), np.float32)
        mode = "inpaint"
    takes = inspect.signature(pipe.__call__).parameters
    if "max_area" in takes:  # Kontext rescales to about a megapixel unless told the area
        kwargs.update(max_area=width * height, _auto_resize=False)
    if mode == "edit":  # the picture the instruction applies to, at the size asked
        kwargs["image"] = to_pil(image)
    elif mode != "txt2img":
        if image is not None:  # else the overrides bring it (latents, for a picture morph)
            kwargs["image"] = to_pil(image)
        kwargs["strength"] = strength
    if mode in ("inpaint", "outpaint"):
        from PIL import Image

        kwargs["mask_image"] = Image.fromarray((mask * 255).round().astype(np.uint8), "L")
    if mode == "img2img" and "mask_image" in takes:
        from PIL import Image  # an inpainting pipeline serving image-to-image (FLUX.2 Klein)

        kwargs["mask_image"] = Image.new("L", (image.shape[1], image.shape[0]), 255)
    if mode == "img2img" and "width" not in takes:
        kwargs.pop("width"), kwargs.pop("height")  # SD's takes the picture's size; FLUX's asks
    overrides = prompt_extras.condition(model, pipe, p, overrides)  # LoRAs, embeddings, weights
    if overrides:
        if "prompt_embeds" in overrides:
            kwargs.pop("prompt"), kwargs.pop("negative_prompt", None)
        kwargs.update(overrides)
    if p.controls:
        pipe = control_apply.control_pipeline(model, pipe, mode, p, width, height, kwargs)
    model.pipe.vae.disable_tiling()
    if width * height > TILE_VAE_ABOVE:
        model.pipe.vae.enable_tiling()
    with torch.inference_mode(), regional_attention(pipe, p, width, height), \
            control_apply.encoding_controls(pipe, p), \
            reference_images(model, pipe, p, kwargs):
        out = pipe(**kwargs)
    if reporter.cancelled:
        return None
    return reporter.unpack(out.images)


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
        # FLUX.2's VAE has neither: its pipeline hands back latents ready to decode
        scaling = getattr(cfg, "scaling_factor", None) or 1.0
        lat = latents / scaling + (getattr(cfg, "shift_factor", None) or 0.0)
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
