"""Tileable textures: circular padding in every convolution of the denoiser
and the VAE, so what leaves one edge enters the opposite one and the image
wraps left-right and top-bottom without a seam (the trick A1111's "Tiling"
uses). Transformer denoisers patchify without convolutions over the image,
so the option does not apply to them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from artstudio.engine.errors import UserFacingError

UNET_ONLY = ("Tileable needs a UNet model (SD 1.x, 2.x, SDXL); transformer models "
             "(FLUX, SD3.5, Z-Image) have no convolutions to wrap.")


def tileable_reason(pipe, denoiser: str = "unet") -> str | None:
    """None when `pipe` can make tileable images, else why not."""
    if denoiser != "unet" or getattr(pipe, "unet", None) is None:
        return UNET_ONLY
    return None


def family_reason(spec) -> str | None:
    """The same answer from a family (a FamilySpec, or None when unknown),
    before any model is loaded: for the command line and the panel."""
    return None if spec is None or spec.denoiser == "unet" else UNET_ONLY


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


@contextmanager
def tiling(model, params) -> Iterator[None]:
    """Around one image's denoising and decoding: circular padding in the
    loaded model's UNet and VAE when `params.tileable`, else nothing. A
    transformer family is refused with the reason."""
    if not getattr(params, "tileable", False):
        yield
        return
    reason = tileable_reason(model.pipe, model.family_spec.denoiser)
    if reason:
        raise UserFacingError(reason)
    with circular_padding(model.pipe.unet, model.pipe.vae):
        yield


def tiled(pixels, times: int = 3):
    """`pixels` (H x W x C) repeated `times` x `times`: how a texture looks
    laid as tiles, seams included where there are any."""
    import numpy as np

    return np.tile(pixels, (times, times, 1))
