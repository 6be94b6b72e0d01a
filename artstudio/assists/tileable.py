"""Tileable textures: circular padding in every convolution of the denoiser
and the VAE, so what leaves one edge enters the opposite one and the image
wraps left-right and top-bottom without a seam (the trick A1111's "Tiling"
uses). Transformer denoisers patchify without convolutions over the image,
so the option does not apply to them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def tileable_reason(pipe, denoiser: str = "unet") -> str | None:
    """None when `pipe` can make tileable images, else why not."""
    if denoiser != "unet" or getattr(pipe, "unet", None) is None:
        return ("Tileable needs a UNet model (SD 1.x, 2.x, SDXL); transformer models "
                "(FLUX, SD3.5, Z-Image) have no convolutions to wrap.")
    return None


def _convolutions(*modules) -> list:
    import torch

    return [m for module in modules if module is not None for m in module.modules()
            if isinstance(m, torch.nn.Conv2d)]


@contextmanager
def circular_padding(*modules) -> Iterator[int]:
    """Every Conv2d in `modules` pads circularly inside the block, and as
    before after it (the cached pipeline serves ordinary images next).
    Yields how many convolutions were switched."""
    convs = _convolutions(*modules)
    before = [c.padding_mode for c in convs]
    for c in convs:
        c.padding_mode = "circular"
    try:
        yield len(convs)
    finally:
        for c, mode in zip(convs, before, strict=True):
            c.padding_mode = mode

