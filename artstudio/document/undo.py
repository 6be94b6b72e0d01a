"""How a document's changes become undo steps, and whether it is saved.

`history.py` says what a step is and keeps the stacks; this module decides
which changes join which step, replays steps on undo and redo, and follows
the saved position so `Document.modified` is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artstudio.document.events import DocumentEvents
from artstudio.document.geometry import Rect
from artstudio.document.history import (
    Change,
    History,
    StateChange,
    Step,
    TilePatch,
    TileRecorder,
    state_extra_bytes,
)
from artstudio.document.state import DocumentState


class UndoRecorder:
    """Records the changes of one document into its `History`.

    Changes made between `begin` and `end` join one step; a change made
    outside an edit is a step of its own. Pixel edits are recorded lazily:
    a TileRecorder per target copies tiles as they are first touched, and
    they become a TilePatch when the edit ends.
    """

    def __init__(self, state: DocumentState, history: History, events: DocumentEvents) -> None:
        self._state = state
        self._history = history
        self._events = events
        self._group: Step | None = None
        self._depth = 0
        self._recorders: dict[int | str, TileRecorder] = {}
        self._saved_position = history.position
        self.modified = False

    # ------------------------------------------------------------ grouping
    @property
    def editing(self) -> bool:
        return self._depth > 0

    def begin(self, label: str) -> None:
        if self._depth == 0:
            self._group = Step(label)
        self._depth += 1

    def end(self) -> None:
        if self._depth == 0:
            raise RuntimeError("end_edit without begin_edit")
        self._depth -= 1
        if self._depth:
            return
        self._flush_recorders()
        step, self._group = self._group, None
        if step is not None and step.changes:
            self._history.push(step)
            self._history_changed()

    def record(self, label: str, change: Change) -> None:
        """Add a change that has already been made to the document."""
        if not isinstance(change, TilePatch):
            # Pixel patches must be ordered before a structural change that
            # follows them in the same step, or undo would patch a missing layer.
            self._flush_recorders()
        if self._group is not None:
            self._group.changes.append(change)
        else:
            self._history.push(Step(label, [change]))
            self._history_changed()

    def apply_parts(self, label: str, parts: dict[str, Any]) -> None:
        """Replace whole parts of the state (see `DocumentState.parts`), undoably."""
        old = self._state.parts(tuple(parts))
        self._state.set_parts(parts)
        self.record(label, StateChange(old, state_extra_bytes(old, parts)))

    def touch(self, key: int | str, array: np.ndarray, rect: Rect) -> None:
        """Keep the tiles of `array` under `rect` before a pixel tool writes there."""
        if self._group is None:
            raise RuntimeError("pixel edits need begin_edit() first")
        recorder = self._recorders.get(key)
        if recorder is not None and recorder.array is not array:
            self._flush_recorders()
            recorder = None
        if recorder is None:
            recorder = self._recorders[key] = TileRecorder(array)
        recorder.touch(rect)

    def overwrite(self, label: str, key: int | str, pixels: np.ndarray) -> None:
        """Write `pixels` over the whole buffer of a layer (by uid) or of the
        mask in one step; history keeps only the tiles that differ."""
        array = self._state.target_array(key)
        whole = Rect(0, 0, array.shape[1], array.shape[0])
        self.begin(label)
        try:
            self.touch(key, array, whole)
            array[...] = pixels
            self._state.pixels_changed(key, whole)
        finally:
            self.end()

    def _flush_recorders(self) -> None:
        recorders, self._recorders = self._recorders, {}
        for key, recorder in recorders.items():
            tiles = recorder.finish()
            if tiles:
                self.record("Paint", TilePatch(key, tiles))

    # ------------------------------------------------------- undo and redo
    def undo(self) -> bool:
        if self.editing:
            raise RuntimeError("cannot undo while an edit is open")
        if not self._history.undo_steps:
            return False
        step = self._history.undo_steps.pop()
        for change in reversed(step.changes):
            change.undo(self._state)
        self._history.redo_steps.append(step)
        self._history_changed()
        return True

    def redo(self) -> bool:
        if self.editing:
            raise RuntimeError("cannot redo while an edit is open")
        if not self._history.redo_steps:
            return False
        step = self._history.redo_steps.pop()
        for change in step.changes:
            change.redo(self._state)
        self._history.undo_steps.append(step)
        self._history_changed()
        return True

    def clear(self) -> None:
        saved = self._saved_position == self._history.position
        self._history.clear()
        if saved:
            self._saved_position = self._history.position
        self._history_changed()

    # ------------------------------------------------------------ saving
    def mark_saved(self) -> None:
        self._saved_position = self._history.position
        self._update_modified()

    def mark_modified(self) -> None:
        # No history position is -1, so the flag stays on until the next save.
        self._saved_position = -1
        self._update_modified()

    def _history_changed(self) -> None:
        self._update_modified()
        self._events.history_changed.emit()

    def _update_modified(self) -> None:
        modified = self._history.position != self._saved_position
        if modified != self.modified:
            self.modified = modified
            self._events.modified_changed.emit(modified)
