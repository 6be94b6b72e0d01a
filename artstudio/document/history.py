"""Undo/redo: steps made of small reversible changes.

Pixel edits are stored as the tiles (64 x 64) they changed, never as whole
layers: a brush stroke keeps a copy of the tiles it touched and nothing else.
A tile patch holds ONE copy per tile and swaps it with the live pixels on
both undo and redo, so it costs the same memory either way.

Structural changes (delete a layer, flatten, resize the image ...) keep
references to the Layer objects they took out of the document. That works
because history is linear: an object taken out is never edited until the
same change puts it back.

Changes are replayed on the document's `DocumentState` (its primitive,
unrecorded changes), never through `Document`'s operations, which would
record new steps.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from artstudio.document.geometry import Rect, tile_rect, tiles_in

if TYPE_CHECKING:
    from artstudio.document.state import DocumentState

DEFAULT_BUDGET_BYTES = 1024 * 2**20
"""Default history memory cap (1 GiB); the oldest steps are dropped beyond it."""

_step_ids = itertools.count(1)


class Change(Protocol):
    """One reversible change. `undo` and `redo` must be exact inverses."""

    nbytes: int

    def undo(self, state: DocumentState) -> None: ...

    def redo(self, state: DocumentState) -> None: ...


class TileRecorder:
    """Copies each tile of `array` the first time an edit touches it, so the
    changed tiles' old contents can become a patch when the edit ends."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.before: dict[tuple[int, int], np.ndarray] = {}

    def touch(self, rect: Rect) -> None:
        """Call BEFORE writing to `rect` (array coordinates)."""
        h, w = self.array.shape[:2]
        rect = rect.intersect(Rect(0, 0, w, h))
        before = self.before
        for key in tiles_in(rect):
            if key not in before:
                before[key] = self.array[tile_rect(*key, w, h).slices()].copy()

    def finish(self) -> dict[tuple[int, int], np.ndarray]:
        """The old contents of the tiles that really changed."""
        h, w = self.array.shape[:2]
        return {key: old for key, old in self.before.items()
                if not np.array_equal(old, self.array[tile_rect(*key, w, h).slices()])}


@dataclass(eq=False)
class TilePatch:
    """Changed tiles of one layer (target = its uid) or of the mask (target = "mask")."""

    target: int | str
    tiles: dict[tuple[int, int], np.ndarray]
    nbytes: int = 0

    def __post_init__(self) -> None:
        self.nbytes = sum(t.nbytes for t in self.tiles.values())

    def bounds(self, width: int, height: int) -> Rect:
        rect = Rect(0, 0, 0, 0)
        for key in self.tiles:
            rect = rect.union(tile_rect(*key, width, height))
        return rect

    def _swap(self, state: DocumentState) -> None:
        array = state.target_array(self.target)
        h, w = array.shape[:2]
        for key, stored in self.tiles.items():
            view = array[tile_rect(*key, w, h).slices()]
            live = view.copy()
            view[...] = stored
            self.tiles[key] = live
        state.pixels_changed(self.target, self.bounds(w, h))

    undo = _swap
    redo = _swap


@dataclass(eq=False)
class FuncChange:
    """A change given as two callables (for property edits and the like)."""

    do: Callable[[DocumentState], None]
    undo_fn: Callable[[DocumentState], None]
    nbytes: int = 0

    def undo(self, state: DocumentState) -> None:
        self.undo_fn(state)

    def redo(self, state: DocumentState) -> None:
        self.do(state)


@dataclass(eq=False)
class StateChange:
    """Swaps parts of the document state (layers list, size, mask, frame,
    active layer): used by flatten, merge, resize and crop, which rebuild the
    stack. `state` holds the parts NOT currently in the document."""

    state: dict[str, Any]
    nbytes: int = 0

    def _swap(self, state: DocumentState) -> None:
        live = state.parts(tuple(self.state))
        state.set_parts(self.state)
        self.nbytes = state_extra_bytes(live, self.state)
        self.state = live

    undo = _swap
    redo = _swap


def state_extra_bytes(kept: dict[str, Any], live: dict[str, Any]) -> int:
    """Bytes of pixel arrays in `kept` that `live` does not share."""
    shared = {id(layer.pixels) for layer in live.get("layers", ())}
    if "mask" in live:
        shared.add(id(live["mask"]))
    total = sum(layer.pixels.nbytes for layer in kept.get("layers", ())
                if id(layer.pixels) not in shared)
    if "mask" in kept and id(kept["mask"]) not in shared:
        total += kept["mask"].nbytes
    return total


@dataclass(eq=False)
class Step:
    """One entry in the undo list: a label for menus and its changes, in order."""

    label: str
    changes: list[Change] = field(default_factory=list)
    id: int = field(default_factory=lambda: next(_step_ids))

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.changes)


class History:
    """Undo and redo stacks with a memory budget.

    When the steps hold more than `budget_bytes`, the oldest are dropped (the
    newest step is always kept, even if it alone is over budget).
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self.undo_steps: list[Step] = []
        self.redo_steps: list[Step] = []
        # The id the document state has when no step is left to undo: changes
        # when old steps are dropped, so a save made before them never matches.
        self.base_id = 0

    @property
    def position(self) -> int:
        """An id for the current state; equal ids mean identical documents."""
        return self.undo_steps[-1].id if self.undo_steps else self.base_id

    @property
    def nbytes(self) -> int:
        """Bytes of pixel data held by undo and redo steps."""
        return sum(s.nbytes for s in self.undo_steps) + sum(s.nbytes for s in self.redo_steps)

    def push(self, step: Step) -> None:
        self.undo_steps.append(step)
        self.redo_steps.clear()
        self.enforce_budget()

    def enforce_budget(self) -> None:
        total = self.nbytes
        while total > self.budget_bytes and len(self.undo_steps) > 1:
            dropped = self.undo_steps.pop(0)
            total -= dropped.nbytes
            self.base_id = dropped.id

    def clear(self) -> None:
        self.base_id = next(_step_ids)
        self.undo_steps.clear()
        self.redo_steps.clear()
