"""A tiny observer so views learn of document changes without Qt.

The UI wraps these callbacks in Qt signals (or calls `update()` from them);
the document itself stays importable and testable with no event loop.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Signal:
    """A list of callbacks. `emit` calls them in connection order.

    A callback that raises is logged and skipped so one broken view cannot
    stop the document (or the other views) from working.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Add a callback; returns it so `connect` can be used as a decorator."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Remove a callback; unknown callbacks are ignored."""
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            try:
                callback(*args)
            except Exception:
                log.exception("document event %s: a listener failed", self.name)

    def __len__(self) -> int:
        return len(self._callbacks)


class DocumentEvents:
    """Every event a Document emits. Rects are in document pixel coordinates.

    - pixels_changed(layer_index: int, rect: Rect): a layer's pixels changed.
    - layers_changed(): the stack changed (add, delete, reorder, properties).
    - active_layer_changed(index: int)
    - mask_changed(rect: Rect): the inpainting mask changed.
    - frame_changed(rect: Rect): the generation frame moved or resized.
    - size_changed(width: int, height: int): the canvas size changed.
    - modified_changed(modified: bool): the unsaved-changes flag flipped.
    - composite_changed(rect: Rect): the flattened image must be redrawn here;
      a canvas view needs only this one to stay up to date.
    - history_changed(): undo/redo availability or labels may have changed.
    """

    def __init__(self) -> None:
        self.pixels_changed = Signal("pixels_changed")
        self.layers_changed = Signal("layers_changed")
        self.active_layer_changed = Signal("active_layer_changed")
        self.mask_changed = Signal("mask_changed")
        self.frame_changed = Signal("frame_changed")
        self.size_changed = Signal("size_changed")
        self.modified_changed = Signal("modified_changed")
        self.composite_changed = Signal("composite_changed")
        self.history_changed = Signal("history_changed")
