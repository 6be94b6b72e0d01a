"""A result shown on the canvas before the artist takes it.

One `CanvasPreview` belongs to the canvas: it says which picture shows over
the layers and where, and what the canvas keys do with it. The Generate
panel's tray and the Style panel put their results in it; the canvas only
paints it. The document never holds a preview (no layer, no undo step,
nothing saved), so showing, stepping through and hiding results costs the
artist nothing. This module imports no Qt: the overlay's state is plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from artstudio.diffusion.results import Candidate, outpainted_canvas, placement
from artstudio.document import Document, Rect, Signal

# What the canvas keys ask of whoever showed the preview (Escape only hides it).
ACTIONS = ("previous", "next", "apply", "discard")
KEY_HINTS = (("apply", "Enter: apply"), ("discard", "Del: discard"), ("next", "← →: browse"))


@dataclass(frozen=True)
class PreviewContent:
    pixels: np.ndarray  # height x width x 4, uint8, straight alpha
    rect: Rect  # where it shows, in document pixels (an outpaint reaches past the canvas)
    owner: object  # who showed it: only the owner's release() takes it away
    caption: str = ""
    actions: Mapping[str, Callable[[], Any]] = field(default_factory=dict)

    @property
    def key_hint(self) -> str:
        """What the canvas keys do with this preview, for its caption."""
        hints = [text for action, text in KEY_HINTS if action in self.actions]
        return "   ".join([*hints, "Esc: hide"])


def rgba_pixels(image: Any) -> np.ndarray:
    """A PIL image or an RGB/RGBA array as a contiguous RGBA uint8 array."""
    if hasattr(image, "convert"):
        image = image.convert("RGBA")
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 3 and array.shape[2] == 3:
        array = np.dstack([array, np.full(array.shape[:2], 255, np.uint8)])
    return np.ascontiguousarray(array)


class CanvasPreview:
    """What the canvas shows over the layers, if anything.

    Events (plain callbacks): changed() whenever what shows changes.
    """

    def __init__(self) -> None:
        self.content: PreviewContent | None = None
        self.visible = False
        self.changed = Signal("changed")

    @property
    def shown(self) -> PreviewContent | None:
        return self.content if self.visible else None

    def show(self, image: Any, rect: Rect, owner: object, caption: str = "",
             actions: Mapping[str, Callable[[], Any]] | None = None) -> None:
        unknown = set(actions or {}) - set(ACTIONS)
        if unknown:
            raise ValueError(f"unknown preview actions: {sorted(unknown)}")
        self.content = PreviewContent(rgba_pixels(image), Rect(*rect), owner, caption,
                                      dict(actions or {}))
        self.visible = True
        self.changed.emit()

    def hide(self) -> None:
        """Stop showing (Escape); the owner can show it again."""
        if self.visible:
            self.visible = False
            self.changed.emit()

    def release(self, owner: object) -> None:
        """`owner` has nothing to show any more; another owner's preview stays."""
        if self.content is not None and self.content.owner is owner:
            self.content = None
            self.hide()

    def clear(self) -> None:
        self.content = None
        self.hide()

    def owned_by(self, owner: object) -> bool:
        return self.shown is not None and self.shown.owner is owner

    def trigger(self, action: str) -> bool:
        """Do what a canvas key asks of the shown preview; False when nothing
        shows or its owner offers no such action."""
        content = self.shown
        if content is None or action not in content.actions:
            return False
        content.actions[action]()
        return True


def candidate_rect(doc: Document, candidate: Candidate) -> Rect:
    """Where a tray result shows: where Apply would put it in `doc`, or for
    an outpainting the grown canvas around the old one (reaching past the
    canvas as it is now)."""
    target = candidate.target
    if not target.outpaint:
        return placement(doc, candidate).rect
    frame = target.frame
    size, _anchor = outpainted_canvas((frame.w, frame.h), target.outpaint)
    left, top = target.outpaint[:2]
    return Rect(frame.x - left, frame.y - top, *size)
