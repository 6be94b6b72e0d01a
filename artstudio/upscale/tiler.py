"""Any upscaler over any image size: overlapping tiles that carry real
neighbouring context, blended over their overlap with linear ramps, produced
row band by row band so memory does not grow with the result.

An out-of-memory error splits the tile in hand into four smaller ones and
carries on. A seamless mode takes the context across the borders
(wrap-around), so a tileable texture stays tileable. Works for every
`protocol.Upscaler`, scale 1 included (the CycleGAN painters use it)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from artstudio.engine.errors import is_out_of_memory

if TYPE_CHECKING:
    from artstudio.engine.cancel import CancelToken
    from artstudio.upscale.protocol import Upscaler

MIN_TILE = 32
# Float accumulators for one band of output rows stay under this, however wide.
BAND_BYTES = 192 * 1024**2
EMIT_ROWS = 64  # finished rows are handed on in blocks of at most this many


def _windows(h: int, w: int, tile_h: int, tile_w: int,
             overlap: int) -> list[tuple[int, int, int, int]]:
    """Tile windows (y0, x0, y1, x1) covering the image, neighbours sharing `overlap`."""
    ys = list(range(0, max(1, h - overlap), max(1, tile_h - overlap))) or [0]
    xs = list(range(0, max(1, w - overlap), max(1, tile_w - overlap))) or [0]
    return [(y, x, min(h, y + tile_h), min(w, x + tile_w)) for y in ys for x in xs]


def _halves(start: int, end: int, overlap: int) -> list[tuple[int, int]]:
    """Two overlapping halves of [start, end), each at most 3/4 of it: with a
    full overlap a side of 2x the overlap would split into itself forever."""
    if end - start <= MIN_TILE:
        return [(start, end)]
    mid, half = (start + end) // 2, min(overlap // 2, (end - start) // 4)
    return [(start, mid + half), (mid - half, end)]


def _split(window: tuple[int, int, int, int], overlap: int) -> list[tuple[int, int, int, int]]:
    y0, x0, y1, x1 = window
    return [(a, c, b, d) for a, b in _halves(y0, y1, overlap) for c, d in _halves(x0, x1, overlap)]


def _ramp(length: int, fade_start: int, fade_end: int) -> np.ndarray:
    """1 inside, a linear fade over `fade_start`/`fade_end` samples at the ends.
    A tile split small after out-of-memory errors can be shorter than its two
    fades: there the lower of the two ramps counts."""
    start = np.ones(length, np.float32)
    end = np.ones(length, np.float32)
    if fade_start:
        ramp = np.linspace(1 / (fade_start + 1), 1, fade_start, endpoint=False)
        start[:fade_start] = ramp[:length]
    if fade_end:
        ramp = np.linspace(1, 1 / (fade_end + 1), fade_end)
        end[max(0, length - fade_end):] = ramp[max(0, fade_end - length):]
    return np.minimum(start, end)


def _as_float(patch: np.ndarray) -> np.ndarray:
    if patch.dtype == np.uint8:
        return patch.astype(np.float32) * (1 / 255)
    return patch.astype(np.float32, copy=False)


def run_padded(model: Upscaler, image: np.ndarray) -> np.ndarray:
    """Run a float RGB patch, padding it up to the model's size requirements."""
    h, w = image.shape[:2]
    m = model.multiple_of
    th = max(model.minimum, -(-h // m) * m)
    tw = max(model.minimum, -(-w // m) * m)
    if (th, tw) != (h, w):
        image = np.pad(image, ((0, th - h), (0, tw - w), (0, 0)), mode="reflect")
    out = model.run(image)
    return out[: h * model.scale, : w * model.scale]


def run_alpha_as_grey(model: Upscaler, alpha: np.ndarray) -> np.ndarray:
    """Alpha (HxW float) through an RGB network as a grey image of its own."""
    grey = run_padded(model, np.repeat(alpha[..., None], 3, axis=2))
    return grey.mean(axis=2)


def tile_for_memory(parameters: int, scale: int, multiple_of: int, device: str) -> int:
    """A tile side that fits in about half the free memory, by a rough
    per-pixel activation cost of a network of this many parameters; an
    out-of-memory error still halves it."""
    import math

    from artstudio.engine.devices import free_memory_bytes

    width = max(32, min(256, int(math.sqrt(parameters / 9))))  # ~feature channels
    per_pixel = 4 * width * 6 * max(1, scale) ** 2
    side = int(math.sqrt(free_memory_bytes(device) * 0.5 / per_pixel))
    side = max(MIN_TILE, min(1024, side))
    return side // multiple_of * multiple_of or multiple_of


def _run_tile(model: Upscaler, patch: np.ndarray, with_alpha: bool) -> np.ndarray:
    """RGB (and alpha, as a grey image of its own) of one patch, upscaled."""
    rgb = run_padded(model, _as_float(patch[..., :3]))
    if patch.shape[2] == 3:
        return rgb
    if with_alpha:
        alpha = model.run_alpha(_as_float(patch[..., 3]))[..., None]
    else:
        alpha = np.ones((*rgb.shape[:2], 1), np.float32)
    return np.concatenate([rgb, alpha], axis=2)


def band_tile_height(width: int, scale: int, channels: int, tile: int, overlap: int,
                     band_bytes: int = BAND_BYTES) -> int:
    """Tile height that keeps the float band (the output rows of one row of
    tiles, plus a weight channel) within `band_bytes`, however wide the image.
    Never below MIN_TILE or 4x the overlap: very wide images get more memory
    rather than tiles that are mostly context."""
    per_row = width * scale * (channels + 1) * 4
    rows = band_bytes // max(1, per_row) // max(1, scale)
    return max(MIN_TILE, 4 * overlap, min(tile, rows))


def upscale_rows(model: Upscaler, image: np.ndarray, tile: int | None = None,
                 overlap: int = 16, seamless: bool = False, progress=None,
                 cancel: CancelToken | None = None, with_alpha: bool = True,
                 band_bytes: int = BAND_BYTES,
                 border_context: bool = True) -> Iterator[np.ndarray]:
    """Upscale HxWxC (C = 3 or 4; uint8, or float 0..1) by the model's scale,
    tile by tile, yielding finished uint8 rows from the top down.

    Blending needs float accumulators, but only for the band of rows the
    current row of tiles touches, and that band's height is capped by
    `band_bytes`: memory does not grow with the result, so a caller can write
    the rows to disk as they come (see `upscaling.UpscaleStream`).

    At the image border the context is the image reflected (seamless:
    wrapped around). `border_context=False` gives none there instead, so an
    image that fits in one tile runs as it is: for networks whose
    normalisation would count the reflection as part of the picture."""
    h, w, channels = image.shape
    s = model.scale
    tile_w = max(MIN_TILE, tile or model.preferred_tile)
    overlap = max(0, min(overlap, tile_w // 4))
    tile_h = band_tile_height(w, s, channels, tile_w, overlap, band_bytes)
    overlap = min(overlap, tile_h // 4)  # a short tile must still be mostly its own
    context = overlap  # real pixels around every tile: the network sees its surroundings
    # ... but no further than it can see: context beyond a network's receptive
    # field changes no output pixel, and costs a fifth more work on a small image.
    sees = getattr(model, "receptive_radius", None)
    if sees is not None:
        context = min(context, int(sees))
    edge = context if seamless or border_context else 0
    padded = np.pad(image, ((edge, edge), (edge, edge), (0, 0)),
                    mode="wrap" if seamless else "reflect")
    # (row key, window): a window split after an out-of-memory error keeps its row.
    queue = deque((win[0], win) for win in _windows(h, w, tile_h, tile_w, overlap))
    # The band: output rows [band_top, band_top + used) of the rows of tiles in hand,
    # in buffers allocated once (a row of tiles spans at most tile_h input rows).
    rows = tile_h * s
    acc = np.zeros((rows, w * s, channels), np.float32)
    weight = np.zeros((rows, w * s, 1), np.float32)
    band_top, used = 0, 0
    row = None
    done, total = 0, len(queue)

    def take(upto: int) -> Iterator[np.ndarray]:
        """Output rows [band_top, upto) as uint8, a few rows at a time (the
        float temporaries stay small); the rest of the band moves up."""
        nonlocal band_top, used
        n = min(upto - band_top, used)
        if n <= 0:
            band_top = max(band_top, upto)
            return
        for top in range(0, n, EMIT_ROWS):
            end = min(n, top + EMIT_ROWS)
            block = acc[top:end] / np.maximum(weight[top:end], 1e-8)
            block *= 255
            block += 0.5
            yield block.clip(0, 255, out=block).astype(np.uint8)
        rest = used - n
        acc[:rest] = acc[n:used]
        weight[:rest] = weight[n:used]
        acc[rest:used] = 0
        weight[rest:used] = 0
        band_top, used = band_top + n, rest

    while queue:
        if cancel is not None:
            cancel.raise_if_cancelled()
        key, (y0, x0, y1, x1) = queue.popleft()
        if key != row:  # a new row of tiles: rows above its top are final
            yield from take(y0 * s)
            row = key
        py, px = max(0, y0 + edge - context), max(0, x0 + edge - context)  # in `padded`
        patch = padded[py:y1 + edge + context, px:x1 + edge + context]
        try:
            result = _run_tile(model, patch, with_alpha)
        except Exception as exc:
            if not is_out_of_memory(exc) or (y1 - y0 <= MIN_TILE and x1 - x0 <= MIN_TILE):
                raise
            from artstudio.engine.devices import empty_device_caches

            empty_device_caches()
            parts = _split((y0, x0, y1, x1), overlap)
            total += len(parts) - 1
            queue.extendleft((key, part) for part in reversed(parts))  # smaller, from here on
            continue
        oy, ox = (y0 + edge - py) * s, (x0 + edge - px) * s
        core = result[oy:oy + (y1 - y0) * s, ox:ox + (x1 - x0) * s]
        fade = overlap * s
        wy = _ramp(core.shape[0], fade if y0 > 0 else 0, fade if y1 < h else 0)
        wx = _ramp(core.shape[1], fade if x0 > 0 else 0, fade if x1 < w else 0)
        wt = (wy[:, None] * wx[None, :])[..., None]
        top = y0 * s - band_top
        used = max(used, top + core.shape[0])
        acc[top:top + core.shape[0], x0 * s:x1 * s] += core * wt
        weight[top:top + core.shape[0], x0 * s:x1 * s] += wt
        done += 1
        if progress is not None:
            progress(done, total, f"Tile {done} of {total}")
    yield from take(h * s)


def gather(blocks: Iterator[np.ndarray], shape: tuple[int, int, int]) -> np.ndarray:
    """Row blocks, top to bottom, into one uint8 array."""
    out = np.empty(shape, np.uint8)
    y = 0
    for block in blocks:
        out[y:y + len(block)] = block
        y += len(block)
    return out


def upscale_array(model: Upscaler, image: np.ndarray, tile: int | None = None,
                  overlap: int = 16, seamless: bool = False, progress=None,
                  cancel: CancelToken | None = None, with_alpha: bool = True,
                  border_context: bool = True) -> np.ndarray:
    """`upscale_rows` gathered into one uint8 array of (sH)x(sW)xC."""
    h, w, channels = image.shape
    rows = upscale_rows(model, image, tile, overlap, seamless, progress, cancel, with_alpha,
                        border_context=border_context)
    return gather(rows, (h * model.scale, w * model.scale, channels))
