"""Picture morph: two pictures encoded by the model's VAE, their latents
slerped and each frame decoded, optionally through a low-strength
image-to-image pass that cleans what the mix of two latents blurs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from artstudio.diffusion.generate import image_metadata
from artstudio.diffusion.loading import LoadedModel, pipeline_for
from artstudio.diffusion.sampling import decode_latents, denoise
from artstudio.interpolation import embedding_mix
from artstudio.interpolation.maths import slerp


def fit_pictures(a, b, width: int, height: int) -> tuple[Any, Any, list[str]]:
    """Both pictures at width x height: each cropped about its centre to that
    shape, then scaled (nothing is stretched). The notes say what changed."""
    from PIL import Image

    notes, fitted = [], []
    for name, image in (("The first picture", a), ("The second picture", b)):
        image = image.convert("RGB")
        if image.size != (width, height):
            notes.append(f"{name} ({image.width}x{image.height}) was fitted to "
                         f"{width}x{height}: cropped to that shape, then scaled.")
            scale = max(width / image.width, height / image.height)
            w, h = max(width, round(image.width * scale)), max(height, round(image.height * scale))
            image = image.resize((w, h), Image.Resampling.LANCZOS)
            left, top = (w - width) // 2, (h - height) // 2
            image = image.crop((left, top, left + width, top + height))
        fitted.append(image)
    return fitted[0], fitted[1], notes


def encode_picture(model: LoadedModel, image) -> Any:
    """A picture's latents, scaled as the denoiser sees them (the inverse of
    sampling.decode_latents); the distribution's mode, so the same picture
    always gives the same latents."""
    import torch

    vae = model.pipe.vae
    cfg = vae.config
    if vae.dtype == torch.float16 and (model.vae_fp32 or getattr(cfg, "force_upcast", False)):
        vae.to(torch.float32)
    pixels = torch.from_numpy(np.asarray(image, np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    with torch.inference_mode():
        lat = vae.encode(pixels.to(vae.device, vae.dtype)).latent_dist.mode().float()
    mean, std = getattr(cfg, "latents_mean", None), getattr(cfg, "latents_std", None)
    if mean is not None and std is not None:
        shape = (1, len(mean), 1, 1)
        return (lat - torch.tensor(mean).view(shape).to(lat)) * cfg.scaling_factor / \
            torch.tensor(std).view(shape).to(lat)
    # FLUX's, SD3's and Z-Image's VAEs also shift their latents (decode adds it back)
    return (lat - (getattr(cfg, "shift_factor", None) or 0.0)) * cfg.scaling_factor


class Morph:
    def __init__(self, stream, model: LoadedModel):
        from artstudio.interpolation.travel import encode

        self.stream, self.model, self.plan = stream, model, stream.plan
        self.keys = self.plan.keyframes
        a, b, notes = fit_pictures(*self.plan.images, stream.width, stream.height)
        stream.notes.extend(notes)
        self.latents = [encode_picture(model, a), encode_picture(model, b)]
        g = self.plan.generation
        self.params = replace(g, scheduler=stream.sampler, seed_mode="fixed", count=1,
                              strength=self.plan.strength or g.strength)
        self.embeds = None
        if self.plan.strength > 0:
            pipe = pipeline_for(model, "img2img")
            self.embeds = {p: encode(model, pipe, p, g.negative_prompt, g.cfg_scale)
                           for p in dict.fromkeys(k.prompt for k in self.keys)}

    def make(self, batch, reporter):
        import torch

        mixed = torch.cat([slerp(self.latents[p.a], self.latents[p.b], p.t) for p in batch])
        if self.embeds is None:
            return decode_latents(self.model, mixed)
        dtype = embedding_mix.dtype_of(self.embeds[self.keys[0].prompt])
        overrides: dict[str, Any] = embedding_mix.stack([
            embedding_mix.mix(self.embeds[self.keys[p.a].prompt],
                              self.embeds[self.keys[p.b].prompt], p.t) for p in batch])
        # every frame gets the same added noise, so frames differ only by their pictures' mix
        overrides.update(image=self._as_pipeline_image(mixed, dtype), generator=[
            torch.Generator("cpu").manual_seed(int(self.keys[0].seed)) for _ in batch])
        lat = denoise(self.model, "img2img", replace(self.params, prompt=self.keys[0].prompt),
                      self.keys[0].seed, self.stream.width, self.stream.height, reporter,
                      overrides=overrides)
        return None if lat is None else decode_latents(self.model, lat)

    def _as_pipeline_image(self, mixed, dtype):
        """The mixed latents as the image-to-image pipeline's `image`: as they
        are where its image processor passes latents through, else decoded to
        pictures that it encodes again (Z-Image's resizes anything it is given)."""
        processor = getattr(pipeline_for(self.model, "img2img"), "image_processor", None)
        takes_latents = getattr(getattr(processor, "config", None), "vae_latent_channels",
                                None) == mixed.shape[1]
        if takes_latents:
            return mixed.to(dtype)
        from PIL import Image

        return [Image.fromarray(a, "RGB") for a in decode_latents(self.model, mixed)]

    def params_of(self, place):
        from artstudio.interpolation.travel import journey_metadata

        a, b = self.keys[place.a], self.keys[place.b]
        meta = image_metadata(self.params, self.model, a.seed, self.stream.width,
                              self.stream.height, {})
        meta["mode"] = "morph"
        if self.plan.strength > 0:
            meta["strength"] = self.plan.strength
        meta["interpolation"] = journey_metadata(self.plan, place, a.seed, b.seed, a.prompt,
                                                 b.prompt)
        return meta
