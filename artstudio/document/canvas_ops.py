"""Document's whole-canvas operations: canvas size, image scale and crop.

Each rebuilds the layer list, the mask and the frame together and swaps them
in as one undo step. A mixin of `Document`, which provides `_state` and
`_undo`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from artstudio.document.geometry import Rect
from artstudio.document.layers import check_pixels, new_pixels, relayer
from artstudio.document.state import DocumentState, check_size
from artstudio.document.undo import UndoRecorder


class CanvasOperations:
    _state: DocumentState
    _undo: UndoRecorder

    def resize_canvas(self, width: int, height: int,
                      anchor: tuple[float, float] = (0.5, 0.5)) -> None:
        """Change the canvas size without scaling. `anchor` (0..1, 0..1) says
        where the old image sits: (0, 0) top-left, (0.5, 0.5) centre. Layer
        pixels are kept whole (only offsets move), so nothing is lost."""
        check_size(width, height)
        state = self._state
        dx = round((width - state.width) * anchor[0])
        dy = round((height - state.height) * anchor[1])
        layers = [relayer(layer, x=layer.x + dx, y=layer.y + dy) for layer in state.layers]
        mask = np.zeros((height, width), np.uint8)
        new_rect = Rect(0, 0, width, height)
        src = state.rect.translated(dx, dy).intersect(new_rect)
        if not src.empty:
            mask[src.slices()] = state.mask[src.translated(-dx, -dy).slices()]
        frame = state.frame.translated(dx, dy).intersect(new_rect)
        self._undo.apply_parts("Resize canvas", {
            "size": (width, height), "layers": layers, "mask": mask,
            "frame": new_rect if frame.empty else frame})

    def scaled_layer_rects(self, width: int, height: int) -> dict[int, Rect]:
        """Where each layer (by uid) lands when the image is scaled to width x height."""
        state = self._state
        sx, sy = width / state.width, height / state.height
        rects = {}
        for layer in state.layers:
            left, top = round(layer.x * sx), round(layer.y * sy)
            right, bottom = round(layer.bounds.right * sx), round(layer.bounds.bottom * sy)
            rects[layer.uid] = Rect(left, top, max(1, right - left), max(1, bottom - top))
        return rects

    def resize_image(self, width: int, height: int,
                     resample: Image.Resampling = Image.Resampling.LANCZOS,
                     scaled: dict[int, np.ndarray] | None = None,
                     label: str = "Resize image") -> None:
        """Scale the whole image (every layer, the mask and the frame). `scaled`
        gives pixels already scaled elsewhere (an upscaler model), by layer uid,
        at the sizes `scaled_layer_rects` says; other layers are resampled."""
        check_size(width, height)
        state = self._state
        sx, sy = width / state.width, height / state.height
        rects = self.scaled_layer_rects(width, height)
        layers = []
        for layer in state.layers:
            r = rects[layer.uid]
            given = (scaled or {}).get(layer.uid)
            if given is not None and given.shape[:2] == (r.h, r.w):
                px = check_pixels(np.ascontiguousarray(given))
            else:
                # Pillow premultiplies RGBA while resampling, so no dark fringes.
                px = np.asarray(Image.fromarray(layer.pixels, "RGBA").resize((r.w, r.h),
                                                                             resample))
            layers.append(relayer(layer, pixels=np.array(px), x=r.x, y=r.y))
        mask = np.array(Image.fromarray(state.mask, "L").resize((width, height), resample))
        f = state.frame
        frame = Rect.from_edges(round(f.x * sx), round(f.y * sy),
                                round(f.right * sx), round(f.bottom * sy))
        if frame.w < 1 or frame.h < 1:
            frame = Rect(0, 0, width, height)
        self._undo.apply_parts(label, {
            "size": (width, height), "layers": layers, "mask": mask, "frame": frame})

    def crop_to_frame(self) -> None:
        """Make the generation frame the new canvas, cutting layers to it."""
        state = self._state
        crop = state.frame
        new_rect = Rect(0, 0, crop.w, crop.h)
        layers = []
        for layer in state.layers:
            part = layer.bounds.intersect(crop)
            if part.empty:
                px, x, y = new_pixels(1, 1), 0, 0
            else:
                px = layer.pixels[part.translated(-layer.x, -layer.y).slices()].copy()
                x, y = part.x - crop.x, part.y - crop.y
            layers.append(relayer(layer, pixels=px, x=x, y=y))
        mask = np.zeros((crop.h, crop.w), np.uint8)
        src = crop.intersect(state.rect)
        if not src.empty:
            mask[src.translated(-crop.x, -crop.y).slices()] = state.mask[src.slices()]
        self._undo.apply_parts("Crop to frame", {
            "size": (crop.w, crop.h), "layers": layers, "mask": mask, "frame": new_rect})
