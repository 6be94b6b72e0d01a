"""Pixel work around inpainting: masks, crops, seamless pasting and the
outpainting prefill. numpy/OpenCV only, no torch.

Conventions: images are RGB uint8 HxWx3 arrays; masks are float32 HxW in
0..1 where 1 means "repaint".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def to_rgb_array(image: Any) -> np.ndarray:
    """PIL image or array (gray, RGB, RGBA) -> RGB uint8 array (a copy)."""
    arr = np.asarray(image.convert("RGB")) if hasattr(image, "convert") else np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.dtype != np.uint8:
        arr = np.clip(arr * (255 if arr.max() <= 1.0 else 1), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def to_mask_array(mask: Any, size: tuple[int, int] | None = None) -> np.ndarray:
    """PIL image or array -> float32 HxW in 0..1 (alpha or luminance)."""
    if hasattr(mask, "convert"):
        mode = "A" if mask.mode in ("RGBA", "LA") else "L"
        arr = np.asarray(mask.getchannel("A") if mode == "A" else mask.convert("L"))
    else:
        arr = np.asarray(mask)
        if arr.ndim == 3:
            arr = arr[:, :, -1] if arr.shape[2] in (2, 4) else arr.mean(axis=2)
    arr = arr.astype(np.float32)
    if arr.max() > 1.0:
        arr /= 255.0
    if size is not None and arr.shape[::-1] != size:
        import cv2

        arr = cv2.resize(arr, size, interpolation=cv2.INTER_LINEAR)
    return np.clip(arr, 0.0, 1.0)


def feathered_alpha(mask: np.ndarray, blur: int) -> np.ndarray:
    """A paste-back alpha that is soft at the mask's edge but zero everywhere the
    mask is zero, so unmasked pixels stay bit-for-bit unchanged: the blur only
    fades the inside of the edge (min of the mask and its blurred self)."""
    import cv2

    hard = (mask > 0.5).astype(np.float32) if mask.max() > 0 else mask
    if blur <= 0:
        return np.minimum(mask, 1.0) * (mask > 0)
    k = 2 * int(blur) + 1
    soft = cv2.GaussianBlur(hard, (k, k), 0)
    return np.where(mask > 0, np.minimum(mask, soft), 0.0).astype(np.float32)


def composite(original: np.ndarray, generated: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """original where alpha == 0 (exactly), generated where alpha == 1."""
    a = alpha[:, :, None].astype(np.float32)
    out = original.astype(np.float32) * (1 - a) + generated.astype(np.float32) * a
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    keep = alpha <= 0
    out[keep] = original[keep]
    return out


def ring(mask: np.ndarray, width: int) -> np.ndarray:
    """Pixels just outside the mask (boolean), where colours should agree."""
    import cv2

    hard = (mask > 0.01).astype(np.uint8)
    k = 2 * max(1, width) + 1
    grown = cv2.dilate(hard, np.ones((k, k), np.uint8))
    return (grown > 0) & (hard == 0)


def colour_match(generated: np.ndarray, original: np.ndarray, mask: np.ndarray,
                 width: int = 16) -> np.ndarray:
    """Shift the generated image's colours (mean/std per Lab channel) so that,
    over a ring around the mask, it matches the original. The model re-renders
    the surroundings too; its colour drift there (VAE round trip, a different
    palette) is what would show as a seam after pasting."""
    import cv2

    band = ring(mask, width)
    if band.sum() < 16:
        return generated
    g = cv2.cvtColor(generated, cv2.COLOR_RGB2LAB).astype(np.float32)
    o = cv2.cvtColor(original, cv2.COLOR_RGB2LAB).astype(np.float32)
    for c in range(3):
        gm, gs = g[band, c].mean(), g[band, c].std()
        om, os_ = o[band, c].mean(), o[band, c].std()
        ratio = float(np.clip(os_ / gs, 0.5, 2.0)) if gs > 1e-3 else 1.0
        g[:, :, c] = (g[:, :, c] - gm) * ratio + om
    g = np.clip(g, 0, 255).astype(np.uint8)
    return cv2.cvtColor(g, cv2.COLOR_LAB2RGB)


@dataclass(frozen=True)
class CropBox:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def mask_crop_box(mask: np.ndarray, padding: int, aspect: float = 1.0) -> CropBox | None:
    """The mask's bounding box grown by `padding` and then towards `aspect`
    (width/height) so the crop scales to the model's resolution without
    distortion; clamped to the image. None for an empty mask."""
    ys, xs = np.nonzero(mask > 0.01)
    if len(xs) == 0:
        return None
    h, w = mask.shape
    left, right = max(0, xs.min() - padding), min(w, xs.max() + 1 + padding)
    top, bottom = max(0, ys.min() - padding), min(h, ys.max() + 1 + padding)
    bw, bh = right - left, bottom - top
    if bw / bh < aspect:  # too tall: widen
        grow = min(w, round(bh * aspect)) - bw
        left = max(0, left - grow // 2)
        right = min(w, left + bw + grow)
        left = max(0, right - (bw + grow))
    else:
        grow = min(h, round(bw / aspect)) - bh
        top = max(0, top - grow // 2)
        bottom = min(h, top + bh + grow)
        top = max(0, bottom - (bh + grow))
    return CropBox(int(left), int(top), int(right), int(bottom))


def fit_to_resolution(width: int, height: int, native: int, multiple: int = 8) -> tuple[int, int]:
    """Scale (width, height) so the longer side is `native`, both multiples of 8."""
    scale = native / max(width, height)
    w = max(multiple, round(width * scale / multiple) * multiple)
    h = max(multiple, round(height * scale / multiple) * multiple)
    return w, h


def extend_canvas(image: np.ndarray, left: int, top: int, right: int, bottom: int,
                  seed: int = 0, overlap: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Outpainting set-up: a larger canvas whose new area is prefilled by
    stretching the edge pixels (blurred) plus a little noise, so the model
    starts from plausible colours; and a mask that covers the new area and
    fades `overlap` pixels into the original to hide the seam."""
    import cv2

    h, w = image.shape[:2]
    big = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_REPLICATE)
    new = np.ones(big.shape[:2], np.float32)
    new[top:top + h, left:left + w] = 0.0
    if new.any():
        k = 2 * (max(left, top, right, bottom) // 4) + 1
        blurred = cv2.GaussianBlur(big, (k, k), 0)
        rng = np.random.default_rng(seed)
        noise = rng.normal(0, 12, big.shape).astype(np.float32)
        filled = np.clip(blurred.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        big = np.where(new[:, :, None] > 0, filled, big)
    mask = new.copy()
    if overlap > 0:
        dist = cv2.distanceTransform((new == 0).astype(np.uint8), cv2.DIST_L2, 3)
        fade = np.clip(1.0 - dist / overlap, 0.0, 1.0)
        inner = np.zeros_like(new, dtype=bool)
        inner[top:top + h, left:left + w] = True
        # only the sides that were extended fade into the original
        sides = np.zeros_like(inner)
        if left:
            sides[:, : left + overlap] = True
        if right:
            sides[:, big.shape[1] - right - overlap:] = True
        if top:
            sides[: top + overlap, :] = True
        if bottom:
            sides[big.shape[0] - bottom - overlap:, :] = True
        mask = np.where(inner & sides, np.maximum(mask, fade), mask)
    return big, mask.astype(np.float32)


def repainted_layer(generated: np.ndarray, alpha: np.ndarray, pasted: np.ndarray | None = None,
                    opaque: np.ndarray | None = None) -> np.ndarray:
    """What a masked repaint adds to the picture, as a straight RGBA layer:
    the generated pixels with the feathered mask as their alpha, transparent
    (and black) elsewhere. Laid over the picture it was made from it gives
    `composite(original, generated, alpha)` again, without holding a copy of
    the picture: layers under it stay what they are.

    `opaque` (boolean HxW) marks pixels that had no picture under them, an
    outpainting's new area: there the layer holds the `pasted` result at
    full alpha."""
    a8 = np.clip(np.rint(alpha * 255.0), 0, 255).astype(np.uint8)
    rgb = np.where(a8[:, :, None] > 0, generated, 0).astype(np.uint8)
    layer = np.dstack([rgb, a8])
    if opaque is not None and pasted is not None:
        layer[opaque, :3] = pasted[opaque]
        layer[opaque, 3] = 255
    return np.ascontiguousarray(layer)


def added_area(shape: tuple[int, int], left: int, top: int, width: int, height: int
               ) -> np.ndarray:
    """An outpainted canvas's new pixels (boolean HxW): all but the original
    `width` x `height` picture at (left, top)."""
    new = np.ones(shape, bool)
    new[top:top + height, left:left + width] = False
    return new
