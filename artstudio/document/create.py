"""New documents: File > New and a picture pasted with nothing open.

Both start with an empty history; they differ in whether there is anything
to lose (a blank canvas is "saved", a pasted picture is not).
"""

from __future__ import annotations

import numpy as np

from artstudio.document.document import Document

WHITE = (255, 255, 255, 255)
DEFAULT_SIZE = (1024, 1024)  # File > New's first answer, and the canvas a start opens on


def new_document(width: int, height: int,
                 background: tuple[int, int, int, int] | None = WHITE) -> Document:
    """A canvas with a filled "Background" layer (none when `background` is
    None: transparent) and an empty "Layer 1" to paint on, not modified."""
    doc = Document(width, height)
    if background is not None:
        pixels = np.empty((height, width, 4), np.uint8)
        pixels[...] = background
        doc.add_layer(pixels, name="Background")
    doc.add_layer(name="Layer 1")
    doc.clear_history()
    doc.mark_saved()
    return doc


def document_from_picture(pixels: np.ndarray, name: str) -> Document:
    """A document the size of an RGBA picture, holding it as its one layer.
    Marked modified: the picture exists nowhere else yet (a paste)."""
    doc = Document(pixels.shape[1], pixels.shape[0])
    doc.add_layer(pixels, name=name)
    doc.clear_history()
    doc.mark_modified()
    return doc
