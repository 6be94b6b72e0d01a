"""Where a job's result goes in the layer stack, and at what size.

A result made from the flattened picture (an inpainting, an erase, an
outpainting, a restyled frame) must sit on top of every layer that was
flattened into it: lower, and the layers above it would be drawn a second
time over their own copy. A result that holds only what was repainted (the
mask as its alpha) then changes nothing outside the mask, whichever layer
was active.

A new picture of another size than the frame (text to image with "Frame
size" off) keeps its aspect ratio: `place_in_frame` says where it goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from artstudio.document.document import Document
from artstudio.document.geometry import Rect
from artstudio.document.layers import Layer


def shows_pixels(layer: Layer, area: Rect) -> bool:
    """Does `layer` put anything into the flattened picture inside `area`?"""
    if not layer.visible or layer.opacity <= 0:
        return False
    part = layer.bounds.intersect(area)
    if part.empty:
        return False
    local = part.translated(-layer.x, -layer.y)
    return bool(layer.pixels[local.slices()][..., 3].any())


def contributing_uids(doc: Document, area: Rect) -> tuple[int, ...]:
    """The layers (uids, bottom first) whose pixels the composite of `area`
    holds: what a job that flattens `area` is made from."""
    return tuple(layer.uid for layer in doc.layers if shows_pixels(layer, area))


def index_above(doc: Document, made_from: Iterable[int], area: Rect) -> int | None:
    """The stack index just above the topmost layer a result was made from.
    Layers deleted since are skipped; when none is left, the topmost layer
    that shows pixels in `area` now. None: nothing there (an empty canvas),
    the result goes above the active layer like any new layer."""
    wanted = set(made_from)
    present = [i for i, layer in enumerate(doc.layers) if layer.uid in wanted]
    if not present:
        present = [i for i, layer in enumerate(doc.layers) if shows_pixels(layer, area)]
    return max(present) + 1 if present else None


def add_layer_above(doc: Document, pixels: np.ndarray, params: dict[str, Any], at: Rect,
                    made_from: Iterable[int], *, name: str | None = None,
                    label: str = "Apply generation") -> Layer:
    """A generation result as a new layer at `at`, placed above what it was
    made from (`index_above`). One undo step; the new layer is active."""
    index = index_above(doc, made_from, at)
    with doc.edit(label):
        layer = doc.add_generated_layer(pixels, params, name=name, x=at.x, y=at.y)
        if index is not None:  # counted in the stack without the new layer, as a move is
            doc.move_layer(doc.index_of(layer), index)
    return layer


def fitted(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """RGBA pixels brought to `size` (a model may round sizes to its multiple of 8)."""
    if (pixels.shape[1], pixels.shape[0]) == size:
        return pixels
    image = Image.fromarray(np.ascontiguousarray(pixels), "RGBA")
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS)).copy()


@dataclass(frozen=True)
class Placement:
    """Where a result's pixels go, and how the artist is told."""

    rect: Rect
    note: str  # empty when the result simply fills its frame


def place_in_frame(size: tuple[int, int], frame: Rect, *, fill: bool) -> Placement:
    """A `size` result in `frame`. `fill`: the result was made for this frame
    (at its size, rounded by the model), so it covers it. Otherwise the
    aspect ratio is kept: at its own size, centred, when it fits; scaled
    down to fit inside the frame, centred, when it does not."""
    w, h = size
    if fill or (w, h) == (frame.w, frame.h):
        return Placement(frame, "")
    where = f"centred in the {frame.w}x{frame.h} frame"
    if w <= frame.w and h <= frame.h:
        note = f"Placed at its own size, {w}x{h}, {where}"
    else:
        scale = min(frame.w / w, frame.h / h)
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
        note = f"Scaled from {size[0]}x{size[1]} to {w}x{h} to fit, {where}"
    rect = Rect(frame.x + (frame.w - w) // 2, frame.y + (frame.h - h) // 2, w, h)
    return Placement(rect, note)


STYLE_MODE = "style"  # a restyled layer's `generation["mode"]`


def styled_stack(doc: Document, source: int) -> tuple[int, ...]:
    """A layer (uid) and the restyled copies already stacked directly on it:
    a new restyle of that layer goes above them all, not under the last."""
    index = doc.index_of(source)
    stack = [source]
    for layer in doc.layers[index + 1:]:
        if (layer.generation or {}).get("mode") != STYLE_MODE:
            break
        stack.append(layer.uid)
    return tuple(stack)
