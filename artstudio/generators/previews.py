"""Cheap step previews: a fixed 4-to-3 linear map of the latents.

No VAE decode: a 64x64 latent becomes a blurry but recognisable 64x64 RGB
image in well under a millisecond. The factors are the widely used
approximations for the SD1/SD2 and SDXL latent spaces (fitted by the ComfyUI
authors against real decodes).
"""

from __future__ import annotations

from typing import Any

SD1_FACTORS = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
SDXL_FACTORS = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
SDXL_BIAS = (0.1084, -0.0175, -0.0011)


def latents_to_rgb(latents: Any, family: str = "sd1", min_side: int = 128):
    """The first latent of a batch (torch tensor [B,4,h,w]) as a small PIL image,
    enlarged so its shorter side is at least `min_side`."""
    import numpy as np
    import torch
    from PIL import Image

    lat = latents[0].detach().to("cpu", torch.float32)
    if lat.shape[0] != 4:
        raise ValueError(f"expected 4 latent channels, got {lat.shape[0]}")
    xl = family == "sdxl"
    factors = torch.tensor(SDXL_FACTORS if xl else SD1_FACTORS)
    rgb = torch.einsum("chw,cr->hwr", lat, factors)
    if xl:
        rgb = rgb + torch.tensor(SDXL_BIAS)
    rgb = ((rgb + 1.0) / 2.0).clamp(0, 1)
    arr = (rgb.numpy() * 255).round().astype(np.uint8)
    image = Image.fromarray(arr, "RGB")
    h, w = arr.shape[:2]
    scale = max(1, -(-min_side // max(1, min(h, w))))
    if scale > 1:
        image = image.resize((w * scale, h * scale), Image.Resampling.BILINEAR)
    return image
