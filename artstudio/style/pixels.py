"""Pixel helpers shared by the style engines: float conversion, alpha,
padding, resizing, colour preservation, strength, and detail-preserving
upsampling. Plain numpy and OpenCV; nothing here loads a model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from artstudio.style.transfer import StyleOptions

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
    import cv2  # imported on use: the app imports this module at start

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


def work_rgb(rgb: np.ndarray, max_size: int | None) -> np.ndarray:
    """The image at the engine's working size (see `fit_within`)."""
    h, w = rgb.shape[:2]
    ww, wh = fit_within(w, h, max_size)
    return resize(rgb, ww, wh)


def keep_colour(stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Luminance from the stylized image, chroma (Cr, Cb) from the original:
    the brush work and shading of the style with the photo's own colours."""
    import cv2  # imported on use: the app imports this module at start

    y_sty = cv2.cvtColor(stylized, cv2.COLOR_RGB2YCrCb)[..., :1]
    ycc = cv2.cvtColor(original, cv2.COLOR_RGB2YCrCb)
    ycc[..., :1] = y_sty
    return np.clip(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), 0.0, 1.0)


def mix(stylized: np.ndarray, original: np.ndarray, strength: float) -> np.ndarray:
    """A linear fade between the original (0) and the stylized result (1)."""
    if strength >= 1.0:
        return stylized
    return original + (stylized - original) * np.float32(strength)


def detail_band(original_full: np.ndarray, work_w: int, work_h: int) -> np.ndarray:
    """The original's luminance detail finer than the working size: full
    luminance minus its round trip through the working size (one level of a
    Laplacian pyramid, cut exactly where the network's resolution ends)."""
    import cv2  # imported on use: the app imports this module at start

    h, w = original_full.shape[:2]
    lum = cv2.cvtColor(original_full, cv2.COLOR_RGB2GRAY)
    low = cv2.resize(lum, (work_w, work_h), interpolation=cv2.INTER_AREA)
    return lum - cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR)


def upscale_result(stylized_small: np.ndarray, original_full: np.ndarray,
                   detail: bool = True) -> np.ndarray:
    """The stylized work-size result at the original's size. The stylized
    image keeps everything it has (Lanczos); with `detail`, the original's
    luminance detail finer than the working size is added back, so edges,
    lines and text stay sharp instead of looking upscaled."""
    h, w = original_full.shape[:2]
    sh, sw = stylized_small.shape[:2]
    if (sh, sw) == (h, w):
        return stylized_small
    up = resize(stylized_small, w, h)
    if detail:
        up = up + detail_band(original_full, sw, sh)[..., None]
    return np.clip(up, 0.0, 1.0)


def finish_only_converts(rgba: np.ndarray, options: StyleOptions) -> bool:
    """Whether `finish` (fade=True) would only convert the network's result
    to 8 bits: the image runs at its own size, at full strength, in the
    style's colours. Then a runtime can do that conversion itself."""
    h, w = rgba.shape[:2]
    return (fit_within(w, h, options.max_size) == (w, h) and options.strength >= 1.0
            and not options.preserve_color)


def finish(stylized_work: np.ndarray, original: np.ndarray, rgba: np.ndarray,
           options: StyleOptions, fade: bool) -> np.ndarray:
    """Full size, colour, strength and alpha: the steps every engine shares.
    `fade`: strength fades the result over the original (engines whose
    strength acts inside the network pass False)."""
    out = upscale_result(stylized_work, original, detail=options.detail)
    if options.preserve_color:
        out = keep_colour(out, original)
    if fade:
        out = mix(out, original, options.strength)
    return attach_alpha(to_uint8(out), rgba, options.keep_alpha)
