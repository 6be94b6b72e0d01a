"""Which document changes are "the frame's content changed" for live mode.

A stroke redraws the composite many times while it goes on; only its end
(the undo step closing) counts, so the model sees finished strokes, not
half-painted ones. Layer toggles, visibility, undo and redo close a step of
their own. A change outside the frame, or to the mask, is ignored; a frame
moved or resized counts. The callbacks do a rectangle test and nothing
else: they run inside the brush's path.
"""

from __future__ import annotations

from collections.abc import Callable

from artstudio.document import Document, Rect


class FrameWatcher:
    """Calls `on_change()` once per finished change that reaches the frame."""

    def __init__(self, doc: Document, on_change: Callable[[], None]):
        self.doc = doc
        self.on_change = on_change
        self._dirty = False
        events = doc.events
        events.composite_changed.connect(self._composite_changed)
        events.frame_changed.connect(self._frame_changed)
        events.history_changed.connect(self._step_ended)

    def close(self) -> None:
        events = self.doc.events
        events.composite_changed.disconnect(self._composite_changed)
        events.frame_changed.disconnect(self._frame_changed)
        events.history_changed.disconnect(self._step_ended)

    def _composite_changed(self, rect: Rect) -> None:
        if not self._dirty and not Rect(*rect).intersect(self.doc.frame).empty:
            self._dirty = True

    def _frame_changed(self, _rect: Rect) -> None:
        self._dirty = True

    def _step_ended(self) -> None:
        if self._dirty and not self.doc.editing:
            self._dirty = False
            self.on_change()
