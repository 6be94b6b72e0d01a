"""The Document: canvas size, layer stack, inpainting mask, generation frame,
undo history and change events.

Every change goes through a Document method so it is undoable and announced.
Reading (`doc.layers`, `layer.pixels`, `doc.mask`, `doc.composite()`) is free;
writing to those arrays directly bypasses undo and the composite cache, so
pixel tools use `edit_target()` inside `begin_edit()`/`end_edit()` instead.

This class is the one face of the package. What it holds lives in
`state.py`, how changes become undo steps in `undo.py`, and its operations
in `layer_ops.py`, `mask_frame.py` and `canvas_ops.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artstudio.document.canvas_ops import CanvasOperations
from artstudio.document.compose import Compositor
from artstudio.document.events import DocumentEvents
from artstudio.document.geometry import Rect
from artstudio.document.history import DEFAULT_BUDGET_BYTES, History
from artstudio.document.layer_ops import LayerOperations
from artstudio.document.layers import Layer
from artstudio.document.mask_frame import MaskFrameOperations
from artstudio.document.state import MASK, DocumentState
from artstudio.document.undo import UndoRecorder

__all__ = ["MASK", "Document", "PixelTarget"]


@dataclass
class PixelTarget:
    """Where a pixel tool writes: a layer's pixels or the mask.

    `array` is the live buffer (h, w, 4) for layers or (h, w) for the mask;
    `x`, `y` are its origin in document coordinates. Call `prepare(rect)`
    before writing to `rect` (array coordinates) and `changed(rect)` after.
    """

    doc: Document
    key: int | str
    array: np.ndarray
    x: int
    y: int
    lock_alpha: bool
    is_mask: bool

    @property
    def bounds(self) -> Rect:
        """The array's rectangle in document coordinates."""
        return Rect(self.x, self.y, self.array.shape[1], self.array.shape[0])

    def prepare(self, rect: Rect) -> None:
        self.doc._undo.touch(self.key, self.array, rect)

    def changed(self, rect: Rect) -> None:
        self.doc._state.pixels_changed(self.key, rect)


class Document(LayerOperations, MaskFrameOperations, CanvasOperations):
    """A painting: `width` x `height` canvas, layers bottom-first, one mask."""

    def __init__(self, width: int, height: int, *,
                 history_budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.events = DocumentEvents()
        self._state = DocumentState(width, height, self.events)
        self.history = History(history_budget_bytes)
        self._undo = UndoRecorder(self._state, self.history, self.events)
        self.path: Path | None = None
        """Where the document was last opened from or saved to as .ora."""
        self.autosave_id = uuid.uuid4().hex
        """Stable per document: repeated autosaves overwrite one file."""
        self.revision = 0
        """Counts every change, undo and redo: a snapshot's revision says
        whether a save or an autosave holds older or newer work than another."""
        self.events.history_changed.connect(self._count_revision)

    @classmethod
    def from_layers(cls, width: int, height: int, layers: list[Layer], *,
                    mask: np.ndarray | None = None, frame: Rect | None = None,
                    active: int | None = None) -> Document:
        """A document built from ready layers (bottom first), with empty history,
        not modified. Used by file readers; the layers are taken, not copied."""
        doc = cls(width, height)
        state = doc._state
        state.layers = list(layers)
        if mask is not None:
            if mask.shape != (state.height, state.width) or mask.dtype != np.uint8:
                raise ValueError("mask must be uint8 (height, width)")
            state.mask = mask
        if frame is not None and frame.w >= 1 and frame.h >= 1:
            state.frame = Rect(*frame)
        # Clamped to the stack by the setter; nobody listens to a new document yet.
        state.active_index = len(layers) - 1 if active is None else active
        return doc

    def copy(self) -> Document:
        """A deep copy without history (e.g. to save on a worker thread)."""
        doc = Document(self.width, self.height, history_budget_bytes=self.history.budget_bytes)
        state = doc._state
        state.layers = [layer.copy(new_uid=False) for layer in self._state.layers]
        state.mask = self._state.mask.copy()
        state.frame = self._state.frame
        state.active_index = self._state.active_index
        doc.path = self.path
        doc.autosave_id = self.autosave_id
        doc.revision = self.revision
        return doc

    def _count_revision(self) -> None:
        self.revision += 1

    # ---------------------------------------------------------------- reading
    @property
    def width(self) -> int:
        return self._state.width

    @property
    def height(self) -> int:
        return self._state.height

    @property
    def size(self) -> tuple[int, int]:
        return self._state.size

    @property
    def rect(self) -> Rect:
        return self._state.rect

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The stack, bottom layer first. Read-only: change it through methods."""
        return tuple(self._state.layers)

    def layer(self, index: int) -> Layer:
        return self._state.layers[index]

    def index_of(self, layer: Layer | int) -> int:
        """Index of a Layer object or of a layer uid; ValueError if absent."""
        return self._state.index_of(layer)

    @property
    def mask(self) -> np.ndarray:
        """The inpainting mask, uint8 (height, width), 255 = regenerate. Read-only."""
        return self._state.mask

    @property
    def frame(self) -> Rect:
        """The generation frame (may reach outside the canvas, for outpainting)."""
        return self._state.frame

    @property
    def active_index(self) -> int:
        """Index of the active layer, -1 when there are no layers."""
        return self._state.active_index

    @active_index.setter
    def active_index(self, index: int) -> None:
        self._state.active_index = index

    @property
    def active_layer(self) -> Layer | None:
        return self._state.active_layer

    @property
    def modified(self) -> bool:
        """True when the document differs from what was last saved."""
        return self._undo.modified

    @property
    def title(self) -> str:
        return self.path.stem if self.path else "Untitled"

    def composite(self, rect: Rect | None = None) -> np.ndarray:
        """The flattened visible layers, straight RGBA uint8 over transparency.

        Whole canvas: the cached array itself (do not write to it; it changes
        in place on the next call). With `rect`: a copy of that part.
        """
        image = self._state.compositor.image(self._state.layers)
        if rect is None:
            return image
        return image[rect.intersect(self.rect).slices()].copy()

    @property
    def compositor(self) -> Compositor:
        """The composite cache (exposes recomputation statistics)."""
        return self._state.compositor

    # ----------------------------------------------------- saving bookkeeping
    def mark_saved(self, path: Path | None = None) -> None:
        """Record that the current state is on disk (at `path`, if given)."""
        if path is not None:
            self.path = Path(path)
        self._undo.mark_saved()

    def mark_modified(self) -> None:
        """Force the unsaved flag (e.g. a recovered autosave)."""
        self._undo.mark_modified()

    # ------------------------------------------------------ grouping / undo
    def begin_edit(self, label: str) -> None:
        """Start an undo step; every change until `end_edit` joins it. Nests."""
        self._undo.begin(label)

    def end_edit(self) -> None:
        """Close the step opened by `begin_edit` (nothing is kept if nothing changed)."""
        self._undo.end()

    @contextmanager
    def edit(self, label: str) -> Iterator[Document]:
        """`with doc.edit("Move layer"):` groups everything inside into one undo step."""
        self.begin_edit(label)
        try:
            yield self
        finally:
            self.end_edit()

    @property
    def editing(self) -> bool:
        return self._undo.editing

    @property
    def can_undo(self) -> bool:
        return bool(self.history.undo_steps) and not self.editing

    @property
    def can_redo(self) -> bool:
        return bool(self.history.redo_steps) and not self.editing

    @property
    def undo_label(self) -> str | None:
        return self.history.undo_steps[-1].label if self.history.undo_steps else None

    @property
    def redo_label(self) -> str | None:
        return self.history.redo_steps[-1].label if self.history.redo_steps else None

    def undo(self) -> bool:
        """Undo the last step; False if there was none."""
        return self._undo.undo()

    def redo(self) -> bool:
        """Redo the last undone step; False if there was none."""
        return self._undo.redo()

    def clear_history(self) -> None:
        """Forget all undo steps (after loading, for example)."""
        self._undo.clear()

    # ------------------------------------------------------------ pixels
    def edit_target(self, target: int | str) -> PixelTarget:
        """The buffer a pixel tool writes to: a layer index, or MASK."""
        if target == MASK:
            return PixelTarget(self, MASK, self._state.mask, 0, 0, False, True)
        layer = self._state.layers[int(target)]
        return PixelTarget(self, layer.uid, layer.pixels, layer.x, layer.y,
                           layer.lock_alpha, False)
