"""A journey's frames as layers of a document, each an undo step like
other results."""

from __future__ import annotations

import numpy as np

from artstudio.document import Document, Layer
from artstudio.document.result_layers import fitted, place_in_frame
from artstudio.interpolation.frames import Frame


def frame_layer_name(frame: Frame, count: int) -> str:
    width = max(3, len(str(count)))
    return f"Journey frame {frame.index + 1:0{width}d}"


def _add(doc: Document, frame: Frame, count: int) -> Layer:
    # A journey frame is a text-to-image picture: it goes in the generation
    # frame at its own size, centred, or scaled down to fit (never stretched).
    area = doc.frame.intersect(doc.rect)
    if area.empty:
        area = doc.rect
    placed = place_in_frame(frame.image.size, area, fill=False).rect
    pixels = fitted(np.asarray(frame.image.convert("RGBA")), (placed.w, placed.h))
    return doc.add_generated_layer(pixels, frame.params, name=frame_layer_name(frame, count),
                                   x=placed.x, y=placed.y)


def frame_to_layer(doc: Document, frame: Frame, count: int) -> Layer:
    """One frame of a journey of `count` frames as a new layer above the active one."""
    with doc.edit("Journey frame as layer"):
        return _add(doc, frame, count)


def frames_to_layers(doc: Document, frames, count: int) -> list[Layer]:
    """Every frame as a layer, the first at the bottom (as GIMP and Krita
    read a layer stack as an animation); one undo step."""
    layers = []
    with doc.edit("Journey frames as layers"):
        for frame in frames:
            layers.append(_add(doc, frame, count))
    return layers
