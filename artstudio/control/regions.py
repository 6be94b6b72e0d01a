"""Regions: parts of the picture with a prompt of their own ("a red cat"
here, "a stone wall" there), the document prompt for the rest.

Done with attention masks, the regional-prompting technique of Krita AI
Diffusion's attention couple and A1111's Regional Prompter: in every
cross-attention layer of the UNet, the picture's tokens attend to the
document prompt and to each region's prompt, and each region's answer
replaces the document's inside its mask (scaled to the layer's grid). The
negative prompt's half of a guided batch is left as it is.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from artstudio.engine.errors import UserFacingError

REGION_FAMILIES = ("sd1", "sd2", "sdxl")


@dataclass(frozen=True)
class RegionSpec:
    mask: Any  # white (or 1.0) where the region is: a PIL image or an array (a copy)
    prompt: str
    note: str = ""  # set by prepare ("scaled from 300x200 to 512x512")


def check_regions(regions: Iterable[RegionSpec], mode: str) -> None:
    regions = tuple(regions)
    if regions and mode == "edit":
        raise UserFacingError("Regions guide text-to-image, image-to-image and inpainting, not "
                              "instruction edits.")
    for i, region in enumerate(regions):
        if region.mask is None:
            raise UserFacingError(f"Region {i} has no mask.")
        if not region.prompt.strip():
            raise UserFacingError(f"Region {i} has no prompt: say what goes there.")


def mask_array(mask) -> np.ndarray:
    arr = np.asarray(mask)
    if arr.ndim == 3:
        arr = arr[:, :, 3] if arr.shape[2] == 4 and arr[:, :, 3].min() < 255 else arr[:, :, 0]
    arr = arr.astype(np.float32)
    return arr / 255.0 if arr.max() > 1.0 else arr


def prepare(p, family: str, frame: tuple[int, int]):
    """`p` with each region's mask as floats at the picture's size; a mask of
    another size is scaled with a note; an empty mask is refused.
    Returns (params, notes)."""
    import cv2

    if not p.regions:
        return p, []
    if family not in REGION_FAMILIES:
        raise UserFacingError("Regions work with Stable Diffusion 1.x, 2 and XL models so far; "
                              "this model would ignore them.")
    prepared, notes = [], []
    for i, region in enumerate(p.regions):
        mask = mask_array(region.mask)
        if not (mask > 0.01).any():
            raise UserFacingError(f"Region {i} ({region.prompt!r}) has an empty mask: paint "
                                  "where it goes.")
        note = ""
        h, w = mask.shape
        if (w, h) != frame:
            note = f"scaled from {w}x{h} to {frame[0]}x{frame[1]}"
            notes.append(f"Region {i}'s mask was {w}x{h}; it was scaled to the picture's "
                         f"{frame[0]}x{frame[1]}.")
            mask = cv2.resize(mask, frame, interpolation=cv2.INTER_LINEAR)
        prepared.append(dataclasses.replace(region, mask=mask, note=note))
    return dataclasses.replace(p, regions=tuple(prepared)), notes


def change_masks(p, change):
    """`p` with `change(mask)` applied to every region's mask (crops, outpainting)."""
    if not p.regions:
        return p
    return dataclasses.replace(p, regions=tuple(
        dataclasses.replace(r, mask=change(r.mask)) for r in p.regions))


class RegionalAttention:
    """A cross-attention processor: the wrapped one run once for the document
    prompt and once per region, the answers blended by the region masks."""

    def __init__(self, inner, embeds: list, masks: np.ndarray, latent: tuple[int, int],
                 guided: bool):
        self.inner, self.embeds, self.masks = inner, embeds, masks  # masks [R, h, w]
        self.latent, self.guided = latent, guided
        self._grids: dict[int, Any] = {}

    def _weights(self, length: int, like):
        """The region masks on a layer's token grid, [R, 1, tokens, 1]."""
        import cv2
        import torch

        if length not in self._grids:
            h0, w0 = self.latent
            factor = (h0 * w0 / length) ** 0.5
            h, w = round(h0 / factor), round(w0 / factor)
            if h * w != length:
                raise UserFacingError("The picture's size does not fit the model's layers for "
                                      "regions; use sides that are multiples of 64.")
            grids = np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA)
                              for m in self.masks])
            total = grids.sum(axis=0, keepdims=True)
            grids = grids / np.maximum(total, 1.0)  # overlapping regions share the place
            self._grids[length] = torch.from_numpy(grids.reshape(len(grids), 1, length, 1))
        return self._grids[length].to(like.device, like.dtype)

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                 temb=None, *args, **kwargs):
        import torch

        base = self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, temb,
                          *args, **kwargs)
        if encoder_hidden_states is None or base.ndim != 3:
            return base
        batch = hidden_states.shape[0]
        half = batch // 2 if self.guided else 0
        weights = self._weights(base.shape[1], base)
        out = base * (1.0 - weights.sum(dim=0))
        for embed, weight in zip(self.embeds, weights, strict=True):
            context = embed.to(encoder_hidden_states).expand(batch - half, -1, -1)
            if half:  # the negative prompt's half stays the document's
                context = torch.cat([encoder_hidden_states[:half], context])
            out = out + weight * self.inner(attn, hidden_states, context, None, temb,
                                            *args, **kwargs)
        return out


@contextlib.contextmanager
def regional_attention(pipe, p, width: int, height: int):
    """While the pipeline runs, its UNet's cross-attention follows `p.regions`."""
    if not getattr(p, "regions", ()):
        yield
        return
    unet = pipe.unet
    device = pipe._execution_device
    embeds = [pipe.encode_prompt(prompt=r.prompt, device=device, num_images_per_prompt=1,
                                 do_classifier_free_guidance=False)[0] for r in p.regions]
    scale = int(getattr(pipe, "vae_scale_factor", 8))
    import cv2

    latent = (height // scale, width // scale)
    masks = np.stack([cv2.resize(r.mask, (width, height), interpolation=cv2.INTER_AREA)
                      for r in p.regions])
    guided = p.cfg_scale > 1.0
    original = unet.attn_processors
    unet.set_attn_processor({
        name: RegionalAttention(proc, embeds, masks, latent, guided) if name.endswith(
            "attn2.processor") else proc
        for name, proc in original.items()})
    try:
        yield
    finally:
        unet.set_attn_processor(original)


def describe(regions) -> list[dict[str, Any]]:
    out = []
    for region in regions:
        entry = {"prompt": region.prompt,
                 "area": round(float((np.asarray(region.mask) > 0.5).mean()), 4)}
        if region.note:
            entry["note"] = region.note
        out.append(entry)
    return out
