"""Pixel helpers shared by the style engines: float conversion, alpha,
padding, resizing, colour preservation, strength, and detail-preserving
upsampling. Plain numpy and OpenCV; nothing here loads a model."""

from __future__ import annotations

import cv2
import numpy as np

# The networks were trained on images of a few hundred pixels; below this the
# built-in network's stride-4 encoder leaves too little to work with.
MIN_WORK_SIDE = 32


def rgb_float(rgba: np.ndarray) -> np.ndarray:
    """RGB as float32 0..1 (h, w, 3) from an RGBA or RGB uint8 array."""
    return np.ascontiguousarray(rgba[..., :3], dtype=np.float32) * np.float32(1 / 255)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def attach_alpha(rgb_u8: np.ndarray, source_rgba: np.ndarray, keep_alpha: bool) -> np.ndarray:
    """RGBA output: the source's own alpha when kept (a layer keeps its shape),
    opaque otherwise."""
    h, w = rgb_u8.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    out[..., :3] = rgb_u8
    if keep_alpha and source_rgba.ndim == 3 and source_rgba.shape[2] == 4:
        out[..., 3] = source_rgba[..., 3]
    else:
        out[..., 3] = 255
    return out


def reflect_pad(rgb: np.ndarray, multiple: int) -> tuple[np.ndarray, int, int]:
    """Pad bottom and right by reflection to a multiple of `multiple`; returns
    (padded, h, w) so the caller can crop back. Reflection, not zeros, so the
    network sees no artificial border."""
    h, w = rgb.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if min(h, w) > max(ph, pw) else "edge"
        rgb = np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode=mode)
    return rgb, h, w


def resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area filter when shrinking (no aliasing), Lanczos when enlarging."""
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    shrinking = width * height < w * h
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4
    return cv2.resize(rgb, (int(width), int(height)), interpolation=interp)


def fit_within(w: int, h: int, longest: int | None) -> tuple[int, int]:
    """The size with the longer side at most `longest` (and both sides at least
    MIN_WORK_SIDE), keeping the aspect ratio."""
    scale = 1.0
    if longest and max(w, h) > longest:
        scale = longest / max(w, h)
    if min(w, h) * scale < MIN_WORK_SIDE:
        scale = MIN_WORK_SIDE / min(w, h)
    return max(MIN_WORK_SIDE, round(w * scale)), max(MIN_WORK_SIDE, round(h * scale))


def keep_colour(stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Luminance from the stylized image, chroma (Cr, Cb) from the original:
    the brush work and shading of the style with the photo's own colours."""
    y_sty = cv2.cvtColor(stylized, cv2.COLOR_RGB2YCrCb)[..., :1]
    ycc = cv2.cvtColor(original, cv2.COLOR_RGB2YCrCb)
    ycc[..., :1] = y_sty
    return np.clip(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), 0.0, 1.0)


def mix(stylized: np.ndarray, original: np.ndarray, strength: float) -> np.ndarray:
    """A linear fade between the original (0) and the stylized result (1)."""
    if strength >= 1.0:
        return stylized
    return original + (stylized - original) * np.float32(strength)


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    k = 2 * radius + 1
    return cv2.boxFilter(x, -1, (k, k), borderType=cv2.BORDER_REFLECT)


def guided_upsample(stylized_small: np.ndarray, guide_full: np.ndarray,
                    radius: int = 2, eps: float = 2e-3) -> np.ndarray:
    """Bring a stylized low-resolution result to the guide's full resolution
    without the soft look of a plain upscale (the fast guided filter of
    He and Sun, 2015, used as joint upsampling).

    At low resolution each stylized channel is fitted, in small windows, as a
    linear function a * guide + b of the original's luminance. The smooth
    coefficient fields a and b are upsampled and applied to the full-resolution
    luminance, so edges and fine texture come from the original photo while
    colour, tone and the style's large strokes come from the network.
    """
    h, w = guide_full.shape[:2]
    sh, sw = stylized_small.shape[:2]
    guide_lum = cv2.cvtColor(guide_full, cv2.COLOR_RGB2GRAY)
    guide_small = cv2.resize(guide_lum, (sw, sh), interpolation=cv2.INTER_AREA)
    mean_i = _box(guide_small, radius)
    var_i = _box(guide_small * guide_small, radius) - mean_i * mean_i
    gi = guide_small[..., None]
    mean_p = _box(stylized_small, radius)
    cov_ip = _box(stylized_small * gi, radius) - mean_i[..., None] * mean_p
    a = cov_ip / (var_i[..., None] + np.float32(eps))
    b = mean_p - a * mean_i[..., None]
    mean_a = _box(a, radius)
    mean_b = _box(b, radius)
    a_full = cv2.resize(mean_a, (w, h), interpolation=cv2.INTER_LINEAR)
    b_full = cv2.resize(mean_b, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(a_full * guide_lum[..., None] + b_full, 0.0, 1.0)


def upscale_result(stylized_small: np.ndarray, original_full: np.ndarray,
                   detail: bool = True) -> np.ndarray:
    """The stylized work-size result at the original's size: guided (sharp)
    when `detail`, a Lanczos resize otherwise (kept for comparison)."""
    h, w = original_full.shape[:2]
    if stylized_small.shape[:2] == (h, w):
        return stylized_small
    if detail:
        return guided_upsample(stylized_small, original_full)
    return np.clip(resize(stylized_small, w, h), 0.0, 1.0)
