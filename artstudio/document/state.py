"""What a document holds (canvas size, layer stack, mask, frame, active layer)
and the primitive changes to it.

Each primitive announces itself on the document's events and marks the
composite cache dirty, but records nothing: `Document`'s operations call a
primitive and then record an undo step, and undo steps replay the same
primitives. Keeping both on this one small API is what lets an undo step
restore exactly what the operation did, events and cache included.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artstudio.document.compose import Compositor
from artstudio.document.events import DocumentEvents
from artstudio.document.geometry import Rect
from artstudio.document.layers import Layer

MASK = "mask"
"""Pass as the target of `edit_target` to paint into the inpainting mask."""

MAX_SIDE = 1 << 16

PARTS = ("size", "layers", "mask", "frame", "active")
"""The parts `DocumentState.parts` can take out and `set_parts` put back."""


def check_size(width: int, height: int) -> None:
    if not (1 <= int(width) <= MAX_SIDE and 1 <= int(height) <= MAX_SIDE):
        raise ValueError(f"canvas size must be 1..{MAX_SIDE} pixels a side, got {width}x{height}")


class DocumentState:
    """The live contents of one document. Package-internal: code outside
    `artstudio.document` reads and changes a document through `Document`."""

    def __init__(self, width: int, height: int, events: DocumentEvents) -> None:
        check_size(width, height)
        self.width, self.height = int(width), int(height)
        self.layers: list[Layer] = []
        self.mask = np.zeros((self.height, self.width), np.uint8)
        self.frame = Rect(0, 0, self.width, self.height)
        self.events = events
        self.compositor = Compositor(self.width, self.height)
        self._active = -1

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self.width, self.height)

    def index_of(self, layer: Layer | int) -> int:
        """Index of a Layer object or of a layer uid; ValueError if absent."""
        uid = layer if isinstance(layer, int) else layer.uid
        for i, candidate in enumerate(self.layers):
            if candidate.uid == uid:
                return i
        raise ValueError(f"layer {uid} is not in this document")

    @property
    def active_index(self) -> int:
        return self._active

    @active_index.setter
    def active_index(self, index: int) -> None:
        index = -1 if not self.layers else max(0, min(int(index), len(self.layers) - 1))
        if index != self._active:
            self._active = index
            self.events.active_layer_changed.emit(index)

    @property
    def active_layer(self) -> Layer | None:
        return self.layers[self._active] if self._active >= 0 else None

    # ------------------------------------------------------------ pixels
    def target_array(self, key: int | str) -> np.ndarray:
        """The live buffer of a layer (by uid) or of the mask (MASK)."""
        if key == MASK:
            return self.mask
        return self.layers[self.index_of(int(key))].pixels

    def pixels_changed(self, key: int | str, rect: Rect) -> None:
        """Announce that `rect` (in the target array's coordinates) changed."""
        if key == MASK:
            self.events.mask_changed.emit(rect)
            return
        index = self.index_of(int(key))
        layer = self.layers[index]
        doc_rect = rect.translated(layer.x, layer.y)
        self.events.pixels_changed.emit(index, doc_rect)
        if layer.visible:
            self.invalidate(doc_rect)

    def invalidate(self, rect: Rect | None = None) -> None:
        """Mark part of the composite (all of it by default) to be recomposed."""
        self.compositor.invalidate(rect)
        visible = self.rect if rect is None else rect.intersect(self.rect)
        if not visible.empty:
            self.events.composite_changed.emit(visible)

    # ------------------------------------------------------------ layers
    def insert(self, index: int, layer: Layer) -> None:
        self.layers.insert(index, layer)
        if self._active >= index:
            self._active += 1
        self.events.layers_changed.emit()
        self.invalidate(layer.bounds)

    def remove(self, index: int) -> Layer:
        layer = self.layers.pop(index)
        if self._active >= len(self.layers):
            self._active = len(self.layers) - 1
        self.events.layers_changed.emit()
        self.invalidate(layer.bounds)
        return layer

    def move(self, index: int, new_index: int) -> None:
        layer = self.layers.pop(index)
        self.layers.insert(new_index, layer)
        self.events.layers_changed.emit()
        self.invalidate(layer.bounds)

    def set_props(self, uid: int, props: dict[str, Any]) -> None:
        layer = self.layers[self.index_of(uid)]
        old = layer.bounds
        for key, value in props.items():
            setattr(layer, key, value)
        self.events.layers_changed.emit()
        self.invalidate(old.union(layer.bounds))

    def set_frame(self, rect: Rect) -> None:
        if rect != self.frame:
            self.frame = rect
            self.events.frame_changed.emit(rect)

    # ------------------------------------------------------- whole parts
    def parts(self, keys: tuple[str, ...] = PARTS) -> dict[str, Any]:
        """The named parts as they are now (references, not copies)."""
        live = {"size": self.size, "layers": list(self.layers), "mask": self.mask,
                "frame": self.frame, "active": self._active}
        return {k: live[k] for k in keys}

    def set_parts(self, parts: dict[str, Any]) -> None:
        """Put parts taken by `parts` (or built like them) in place."""
        if "size" in parts and tuple(parts["size"]) != self.size:
            self.width, self.height = parts["size"]
            self.compositor.resize(self.width, self.height)
            self.events.size_changed.emit(self.width, self.height)
        if "layers" in parts:
            active_uid = self.active_layer.uid if self.active_layer else None
            self.layers = list(parts["layers"])
            uids = [layer.uid for layer in self.layers]
            self._active = -2  # force the event below
            target = uids.index(active_uid) if active_uid in uids else len(uids) - 1
            self.active_index = parts.get("active", target)
            self.events.layers_changed.emit()
        if "mask" in parts:
            self.mask = parts["mask"]
            self.events.mask_changed.emit(self.rect)
        if "frame" in parts:
            self.set_frame(parts["frame"])
        elif "active" in parts and "layers" not in parts:
            self.active_index = parts["active"]
        self.invalidate()
