"""Document's inpainting mask and generation frame operations, each one undo
step. A mixin of `Document`, which provides `_state` and `_undo`."""

from __future__ import annotations

import numpy as np

from artstudio.document.geometry import Rect
from artstudio.document.history import FuncChange
from artstudio.document.state import MASK, DocumentState
from artstudio.document.undo import UndoRecorder


class MaskFrameOperations:
    _state: DocumentState
    _undo: UndoRecorder

    def set_mask(self, mask: np.ndarray, label: str = "Set mask") -> None:
        """Replace the whole mask (uint8, height x width); undo keeps changed tiles."""
        current = self._state.mask
        if mask.shape != current.shape or mask.dtype != np.uint8:
            raise ValueError(f"mask must be uint8 {current.shape}, "
                             f"got {mask.dtype} {mask.shape}")
        self._undo.overwrite(label, MASK, mask)

    def clear_mask(self) -> None:
        self.set_mask(np.zeros_like(self._state.mask), "Clear mask")

    def invert_mask(self) -> None:
        self.set_mask(255 - self._state.mask, "Invert mask")

    def set_frame(self, rect: Rect, label: str = "Move frame") -> None:
        """Move or resize the generation frame (width and height at least 1)."""
        rect = Rect(*(int(v) for v in rect))
        if rect.w < 1 or rect.h < 1:
            raise ValueError("the frame needs a positive width and height")
        before = self._state.frame
        if rect == before:
            return
        self._state.set_frame(rect)
        self._undo.record(label, FuncChange(lambda s: s.set_frame(rect),
                                            lambda s: s.set_frame(before)))

    def reset_frame(self) -> None:
        self.set_frame(self._state.rect, "Reset frame")
