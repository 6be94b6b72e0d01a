"""The Document: canvas size, layer stack, inpainting mask, generation frame,
undo history and change events.

Every change goes through a Document method so it is undoable and announced.
Reading (`doc.layers`, `layer.pixels`, `doc.mask`, `doc.composite()`) is free;
writing to those arrays directly bypasses undo and the composite cache, so
pixel tools use `edit_target()` inside `begin_edit()`/`end_edit()` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from artstudio.document.compose import Compositor, compose
from artstudio.document.events import DocumentEvents
from artstudio.document.geometry import Rect
from artstudio.document.history import (
    DEFAULT_BUDGET_BYTES,
    Change,
    FuncChange,
    History,
    StateChange,
    Step,
    TilePatch,
    TileRecorder,
    state_extra_bytes,
)
from artstudio.document.layers import BlendMode, Layer, check_pixels, new_pixels

MASK = "mask"
"""Pass as the target of `edit_target` to paint into the inpainting mask."""

MAX_SIDE = 1 << 16

_PROPS = ("name", "opacity", "visible", "x", "y", "blend", "lock_alpha", "generation")


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
        self.doc._recorder(self.key, self.array).touch(rect)

    def changed(self, rect: Rect) -> None:
        self.doc._pixels_changed(self.key, rect)


class Document:
    """A painting: `width` x `height` canvas, layers bottom-first, one mask."""

    def __init__(self, width: int, height: int, *,
                 history_budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        _check_size(width, height)
        self._width, self._height = int(width), int(height)
        self._layers: list[Layer] = []
        self._mask = np.zeros((self._height, self._width), np.uint8)
        self._frame = Rect(0, 0, self._width, self._height)
        self._active = -1
        self.events = DocumentEvents()
        self.history = History(history_budget_bytes)
        self._compositor = Compositor(self._width, self._height)
        self.path: Path | None = None
        """Where the document was last opened from or saved to as .ora."""
        self.autosave_id = uuid.uuid4().hex
        """Stable per document: repeated autosaves overwrite one file."""
        self._group: Step | None = None
        self._group_depth = 0
        self._recorders: dict[int | str, TileRecorder] = {}
        self._saved_position = self.history.position
        self._modified = False

    @classmethod
    def from_layers(cls, width: int, height: int, layers: list[Layer], *,
                    mask: np.ndarray | None = None, frame: Rect | None = None,
                    active: int | None = None) -> Document:
        """A document built from ready layers (bottom first), with empty history,
        not modified. Used by file readers; the layers are taken, not copied."""
        doc = cls(width, height)
        doc._layers = list(layers)
        if mask is not None:
            if mask.shape != (doc._height, doc._width) or mask.dtype != np.uint8:
                raise ValueError("mask must be uint8 (height, width)")
            doc._mask = mask
        if frame is not None and frame.w >= 1 and frame.h >= 1:
            doc._frame = Rect(*frame)
        count = len(doc._layers)
        doc._active = -1 if not count else (
            count - 1 if active is None else max(0, min(active, count - 1)))
        return doc

    # ---------------------------------------------------------------- reading
    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def size(self) -> tuple[int, int]:
        return self._width, self._height

    @property
    def rect(self) -> Rect:
        return Rect(0, 0, self._width, self._height)

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The stack, bottom layer first. Read-only: change it through methods."""
        return tuple(self._layers)

    def layer(self, index: int) -> Layer:
        return self._layers[index]

    def index_of(self, layer: Layer | int) -> int:
        """Index of a Layer object or of a layer uid; ValueError if absent."""
        uid = layer if isinstance(layer, int) else layer.uid
        for i, candidate in enumerate(self._layers):
            if candidate.uid == uid:
                return i
        raise ValueError(f"layer {uid} is not in this document")

    @property
    def mask(self) -> np.ndarray:
        """The inpainting mask, uint8 (height, width), 255 = regenerate. Read-only."""
        return self._mask

    @property
    def frame(self) -> Rect:
        """The generation frame (may reach outside the canvas, for outpainting)."""
        return self._frame

    @property
    def active_index(self) -> int:
        """Index of the active layer, -1 when there are no layers."""
        return self._active

    @active_index.setter
    def active_index(self, index: int) -> None:
        index = -1 if not self._layers else max(0, min(int(index), len(self._layers) - 1))
        if index != self._active:
            self._active = index
            self.events.active_layer_changed.emit(index)

    @property
    def active_layer(self) -> Layer | None:
        return self._layers[self._active] if self._active >= 0 else None

    @property
    def modified(self) -> bool:
        """True when the document differs from what was last saved."""
        return self._modified

    @property
    def title(self) -> str:
        return self.path.stem if self.path else "Untitled"

    def composite(self, rect: Rect | None = None) -> np.ndarray:
        """The flattened visible layers, straight RGBA uint8 over transparency.

        Whole canvas: the cached array itself (do not write to it; it changes
        in place on the next call). With `rect`: a copy of that part.
        """
        image = self._compositor.image(self._layers)
        if rect is None:
            return image
        return image[rect.intersect(self.rect).slices()].copy()

    @property
    def compositor(self) -> Compositor:
        """The composite cache (exposes recomputation statistics)."""
        return self._compositor

    def copy(self) -> Document:
        """A deep copy without history (e.g. to save on a worker thread)."""
        doc = Document(self._width, self._height, history_budget_bytes=self.history.budget_bytes)
        doc._layers = [layer.copy(new_uid=False) for layer in self._layers]
        doc._mask = self._mask.copy()
        doc._frame = self._frame
        doc._active = self._active
        doc.path = self.path
        doc.autosave_id = self.autosave_id
        return doc

    # ----------------------------------------------------- saving bookkeeping
    def mark_saved(self, path: Path | None = None) -> None:
        """Record that the current state is on disk (at `path`, if given)."""
        if path is not None:
            self.path = Path(path)
        self._saved_position = self.history.position
        self._update_modified()

    def mark_modified(self) -> None:
        """Force the unsaved flag (e.g. a recovered autosave)."""
        self._saved_position = -1
        self._update_modified()

    def _update_modified(self) -> None:
        modified = self.history.position != self._saved_position
        if modified != self._modified:
            self._modified = modified
            self.events.modified_changed.emit(modified)

    # ------------------------------------------------------ grouping / undo
    def begin_edit(self, label: str) -> None:
        """Start an undo step; every change until `end_edit` joins it. Nests."""
        if self._group_depth == 0:
            self._group = Step(label)
        self._group_depth += 1

    def end_edit(self) -> None:
        """Close the step opened by `begin_edit` (nothing is kept if nothing changed)."""
        if self._group_depth == 0:
            raise RuntimeError("end_edit without begin_edit")
        self._group_depth -= 1
        if self._group_depth:
            return
        self._flush_recorders()
        step, self._group = self._group, None
        if step is not None and step.changes:
            self.history.push(step)
            self._history_changed()

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
        return self._group_depth > 0

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
        if self.editing:
            raise RuntimeError("cannot undo while an edit is open")
        if not self.history.undo_steps:
            return False
        step = self.history.undo_steps.pop()
        for change in reversed(step.changes):
            change.undo(self)
        self.history.redo_steps.append(step)
        self._history_changed()
        return True

    def redo(self) -> bool:
        """Redo the last undone step; False if there was none."""
        if self.editing:
            raise RuntimeError("cannot redo while an edit is open")
        if not self.history.redo_steps:
            return False
        step = self.history.redo_steps.pop()
        for change in step.changes:
            change.redo(self)
        self.history.undo_steps.append(step)
        self._history_changed()
        return True

    def clear_history(self) -> None:
        """Forget all undo steps (after loading, for example)."""
        saved = self._saved_position == self.history.position
        self.history.clear()
        if saved:
            self._saved_position = self.history.position
        self._history_changed()

    def _history_changed(self) -> None:
        self._update_modified()
        self.events.history_changed.emit()

    def _record(self, label: str, change: Change) -> None:
        if not isinstance(change, TilePatch):
            # Pixel patches must be ordered before a structural change that
            # follows them in the same step, or undo would patch a missing layer.
            self._flush_recorders()
        if self._group is not None:
            self._group.changes.append(change)
        else:
            self.history.push(Step(label, [change]))
            self._history_changed()

    def _flush_recorders(self) -> None:
        recorders, self._recorders = self._recorders, {}
        for key, recorder in recorders.items():
            tiles = recorder.finish()
            if tiles:
                self._record("Paint", TilePatch(key, tiles))

    def _recorder(self, key: int | str, array: np.ndarray) -> TileRecorder:
        if self._group is None:
            raise RuntimeError("pixel edits need begin_edit() first")
        recorder = self._recorders.get(key)
        if recorder is not None and recorder.array is not array:
            self._flush_recorders()
            recorder = None
        if recorder is None:
            recorder = self._recorders[key] = TileRecorder(array)
        return recorder

    # ------------------------------------------------------------ pixels
    def edit_target(self, target: int | str) -> PixelTarget:
        """The buffer a pixel tool writes to: a layer index, or MASK."""
        if target == MASK:
            return PixelTarget(self, MASK, self._mask, 0, 0, False, True)
        layer = self._layers[int(target)]
        return PixelTarget(self, layer.uid, layer.pixels, layer.x, layer.y,
                           layer.lock_alpha, False)

    def _target_array(self, key: int | str) -> np.ndarray:
        if key == MASK:
            return self._mask
        return self._layers[self.index_of(int(key))].pixels

    def _pixels_changed(self, key: int | str, rect: Rect) -> None:
        """`rect` is in the target array's coordinates."""
        if key == MASK:
            self.events.mask_changed.emit(rect)
            return
        index = self.index_of(int(key))
        layer = self._layers[index]
        doc_rect = rect.translated(layer.x, layer.y)
        self.events.pixels_changed.emit(index, doc_rect)
        if layer.visible:
            self._invalidate(doc_rect)

    def _invalidate(self, rect: Rect | None = None) -> None:
        self._compositor.invalidate(rect)
        visible = self.rect if rect is None else rect.intersect(self.rect)
        if not visible.empty:
            self.events.composite_changed.emit(visible)

    def set_layer_pixels(self, index: int, pixels: np.ndarray, *, x: int | None = None,
                         y: int | None = None, label: str = "Replace layer pixels") -> None:
        """Replace a layer's pixels (a filter result, say); undo keeps only the
        tiles that differ when the size is unchanged."""
        pixels = check_pixels(pixels)
        layer = self._layers[index]
        same_place = (x is None or x == layer.x) and (y is None or y == layer.y)
        if pixels.shape == layer.pixels.shape and same_place:
            with self.edit(label):
                target = self.edit_target(index)
                target.prepare(Rect(0, 0, layer.width, layer.height))
                layer.pixels[...] = pixels
                target.changed(Rect(0, 0, layer.width, layer.height))
            return
        new = _relayer(layer, pixels=pixels.copy(),
                       x=layer.x if x is None else x, y=layer.y if y is None else y)
        layers = list(self._layers)
        layers[index] = new
        self._apply_state(label, {"layers": layers})

    # ------------------------------------------------------------- layers
    def add_layer(self, pixels: np.ndarray | None = None, *, name: str | None = None,
                  index: int | None = None, x: int = 0, y: int = 0, opacity: float = 1.0,
                  visible: bool = True, blend: BlendMode | str = BlendMode.NORMAL,
                  lock_alpha: bool = False, generation: dict[str, Any] | None = None,
                  label: str = "Add layer") -> Layer:
        """Insert a layer (default: canvas-sized, transparent, above the active
        one) and make it active. `pixels` is copied."""
        pixels = new_pixels(self._width, self._height) if pixels is None else pixels.copy()
        layer = Layer(pixels, name=name or self._unique_name("Layer"), opacity=opacity,
                      visible=visible, x=int(x), y=int(y), blend=BlendMode(blend),
                      lock_alpha=lock_alpha, generation=generation)
        if index is None:
            index = self._active + 1 if self._active >= 0 else len(self._layers)
        index = max(0, min(index, len(self._layers)))
        self._insert_with_undo(index, layer, label)
        return layer

    def add_generated_layer(self, pixels: np.ndarray, params: dict[str, Any], *,
                            name: str | None = None, x: int | None = None,
                            y: int | None = None) -> Layer:
        """Apply a generation result: a new layer placed at the frame (or x, y)
        that remembers its parameters. One undo step."""
        prompt = str(params.get("prompt", "")).strip()
        return self.add_layer(pixels, name=name or (prompt[:40] if prompt else "Generated"),
                              x=self._frame.x if x is None else x,
                              y=self._frame.y if y is None else y,
                              generation=dict(params), label="Apply generation")

    def _insert_with_undo(self, index: int, layer: Layer, label: str) -> None:
        previous_active = self._active

        def do(doc: Document) -> None:
            doc._insert(index, layer)
            doc.active_index = index

        def undo(doc: Document) -> None:
            doc._remove(index)
            doc.active_index = previous_active

        do(self)
        # The new layer lives in the document, so history holds no extra bytes for it.
        self._record(label, FuncChange(do, undo))

    def delete_layer(self, index: int) -> None:
        """Remove a layer (its pixels stay in history for undo)."""
        layer = self._layers[index]
        previous_active = self._active

        def do(doc: Document) -> None:
            doc._remove(index)
            doc.active_index = min(previous_active, len(doc._layers) - 1)

        def undo(doc: Document) -> None:
            doc._insert(index, layer)
            doc.active_index = previous_active

        do(self)
        self._record("Delete layer", FuncChange(do, undo, layer.pixels.nbytes))

    def duplicate_layer(self, index: int) -> Layer:
        """Copy a layer to just above itself; the copy becomes active."""
        source = self._layers[index]
        layer = source.copy()
        layer.name = self._unique_name(source.name + " copy")
        self._insert_with_undo(index + 1, layer, "Duplicate layer")
        return layer

    def move_layer(self, index: int, new_index: int) -> None:
        """Move a layer within the stack (indices bottom-first); it becomes active."""
        new_index = max(0, min(new_index, len(self._layers) - 1))
        if new_index == index:
            return
        uid = self._layers[index].uid
        previous_active = self._active

        def do(doc: Document) -> None:
            doc._move(index, new_index)
            doc.active_index = doc.index_of(uid)

        def undo(doc: Document) -> None:
            doc._move(new_index, index)
            doc.active_index = previous_active

        do(self)
        self._record("Move layer", FuncChange(do, undo))

    def set_layer_props(self, index: int, label: str | None = None, **props: Any) -> None:
        """Change layer properties in one undo step. Keys: name, opacity,
        visible, x, y, blend, lock_alpha, generation. No-op if nothing changes."""
        unknown = set(props) - set(_PROPS)
        if unknown:
            raise TypeError(f"unknown layer properties: {sorted(unknown)}")
        layer = self._layers[index]
        if "blend" in props:
            props["blend"] = BlendMode(props["blend"])
        if "opacity" in props:
            props["opacity"] = float(min(1.0, max(0.0, props["opacity"])))
        for key in ("x", "y"):
            if key in props:
                props[key] = int(props[key])
        before = {k: getattr(layer, k) for k in props}
        if before == props:
            return
        uid = layer.uid
        self._set_props(uid, props)
        self._record(label or _props_label(props),
                     FuncChange(lambda d: d._set_props(uid, props),
                                lambda d: d._set_props(uid, before)))

    def rename_layer(self, index: int, name: str) -> None:
        self.set_layer_props(index, name=name)

    def set_layer_opacity(self, index: int, opacity: float) -> None:
        self.set_layer_props(index, opacity=opacity)

    def set_layer_visible(self, index: int, visible: bool) -> None:
        self.set_layer_props(index, visible=visible)

    def set_layer_blend(self, index: int, blend: BlendMode | str) -> None:
        self.set_layer_props(index, blend=blend)

    def set_layer_lock_alpha(self, index: int, lock: bool) -> None:
        self.set_layer_props(index, lock_alpha=lock)

    def move_layer_offset(self, index: int, dx: int, dy: int) -> None:
        """Shift a layer by (dx, dy) pixels."""
        layer = self._layers[index]
        self.set_layer_props(index, x=layer.x + int(dx), y=layer.y + int(dy))

    def merge_down(self, index: int) -> Layer:
        """Merge layer `index` into the one below it; returns the merged layer.

        Exact when the lower layer is Normal at full opacity (the usual case):
        the result is both layers flattened with their modes and opacities.
        Otherwise the upper layer is blended into the lower's pixels and the
        lower's mode and opacity are kept (no single layer can be exact then).
        """
        if index <= 0:
            raise ValueError("the bottom layer has nothing to merge into")
        upper, lower = self._layers[index], self._layers[index - 1]
        area = lower.bounds.union(upper.bounds) if upper.visible else lower.bounds
        lower_solo = _relayer(lower, opacity=1.0, blend=BlendMode.NORMAL, visible=True)
        merged_px = compose([lower_solo, upper], area)
        exact = lower.blend is BlendMode.NORMAL and lower.opacity >= 1.0
        merged = Layer(merged_px, name=lower.name, x=area.x, y=area.y, visible=lower.visible,
                       opacity=1.0 if exact else lower.opacity,
                       blend=BlendMode.NORMAL if exact else lower.blend,
                       lock_alpha=lower.lock_alpha, generation=lower.generation)
        layers = list(self._layers)
        layers[index - 1: index + 1] = [merged]
        self._apply_state("Merge down", {"layers": layers, "active": index - 1})
        return merged

    def flatten(self) -> Layer:
        """Replace all layers by one canvas-sized layer of the visible composite."""
        flat = Layer(compose(self._layers, self.rect), name="Background")
        self._apply_state("Flatten image", {"layers": [flat], "active": 0})
        return flat

    # -------------------------------------------------------- mask and frame
    def set_mask(self, mask: np.ndarray, label: str = "Set mask") -> None:
        """Replace the whole mask (uint8, height x width); undo keeps changed tiles."""
        if mask.shape != self._mask.shape or mask.dtype != np.uint8:
            raise ValueError(f"mask must be uint8 {self._mask.shape}, "
                             f"got {mask.dtype} {mask.shape}")
        with self.edit(label):
            target = self.edit_target(MASK)
            target.prepare(self.rect)
            self._mask[...] = mask
            target.changed(self.rect)

    def clear_mask(self) -> None:
        self.set_mask(np.zeros_like(self._mask), "Clear mask")

    def invert_mask(self) -> None:
        self.set_mask(255 - self._mask, "Invert mask")

    def set_frame(self, rect: Rect, label: str = "Move frame") -> None:
        """Move or resize the generation frame (width and height at least 1)."""
        rect = Rect(*(int(v) for v in rect))
        if rect.w < 1 or rect.h < 1:
            raise ValueError("the frame needs a positive width and height")
        before = self._frame
        if rect == before:
            return
        self._set_frame(rect)
        self._record(label, FuncChange(lambda d: d._set_frame(rect),
                                       lambda d: d._set_frame(before)))

    def reset_frame(self) -> None:
        self.set_frame(self.rect, "Reset frame")

    # ------------------------------------------------------- canvas changes
    def resize_canvas(self, width: int, height: int,
                      anchor: tuple[float, float] = (0.5, 0.5)) -> None:
        """Change the canvas size without scaling. `anchor` (0..1, 0..1) says
        where the old image sits: (0, 0) top-left, (0.5, 0.5) centre. Layer
        pixels are kept whole (only offsets move), so nothing is lost."""
        _check_size(width, height)
        dx = round((width - self._width) * anchor[0])
        dy = round((height - self._height) * anchor[1])
        layers = [_relayer(layer, x=layer.x + dx, y=layer.y + dy) for layer in self._layers]
        mask = np.zeros((height, width), np.uint8)
        new_rect = Rect(0, 0, width, height)
        src = self.rect.translated(dx, dy).intersect(new_rect)
        if not src.empty:
            mask[src.slices()] = self._mask[src.translated(-dx, -dy).slices()]
        frame = self._frame.translated(dx, dy).intersect(new_rect)
        self._apply_state("Resize canvas", {
            "size": (width, height), "layers": layers, "mask": mask,
            "frame": new_rect if frame.empty else frame})

    def scaled_layer_rects(self, width: int, height: int) -> dict[int, Rect]:
        """Where each layer (by uid) lands when the image is scaled to width x height."""
        sx, sy = width / self._width, height / self._height
        rects = {}
        for layer in self._layers:
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
        _check_size(width, height)
        sx, sy = width / self._width, height / self._height
        rects = self.scaled_layer_rects(width, height)
        layers = []
        for layer in self._layers:
            r = rects[layer.uid]
            given = (scaled or {}).get(layer.uid)
            if given is not None and given.shape[:2] == (r.h, r.w):
                px = check_pixels(np.ascontiguousarray(given))
            else:
                # Pillow premultiplies RGBA while resampling, so no dark fringes.
                px = np.asarray(Image.fromarray(layer.pixels, "RGBA").resize((r.w, r.h),
                                                                             resample))
            layers.append(_relayer(layer, pixels=np.array(px), x=r.x, y=r.y))
        mask = np.array(Image.fromarray(self._mask, "L").resize((width, height), resample))
        f = self._frame
        frame = Rect.from_edges(round(f.x * sx), round(f.y * sy),
                                round(f.right * sx), round(f.bottom * sy))
        if frame.w < 1 or frame.h < 1:
            frame = Rect(0, 0, width, height)
        self._apply_state(label, {
            "size": (width, height), "layers": layers, "mask": mask, "frame": frame})

    def crop_to_frame(self) -> None:
        """Make the generation frame the new canvas, cutting layers to it."""
        crop = self._frame
        new_rect = Rect(0, 0, crop.w, crop.h)
        layers = []
        for layer in self._layers:
            part = layer.bounds.intersect(crop)
            if part.empty:
                px, x, y = new_pixels(1, 1), 0, 0
            else:
                px = layer.pixels[part.translated(-layer.x, -layer.y).slices()].copy()
                x, y = part.x - crop.x, part.y - crop.y
            layers.append(_relayer(layer, pixels=px, x=x, y=y))
        mask = np.zeros((crop.h, crop.w), np.uint8)
        src = crop.intersect(self.rect)
        if not src.empty:
            mask[src.translated(-crop.x, -crop.y).slices()] = self._mask[src.slices()]
        self._apply_state("Crop to frame", {
            "size": (crop.w, crop.h), "layers": layers, "mask": mask, "frame": new_rect})

    # ------------------------------------------------ primitives (no undo)
    def _apply_state(self, label: str, state: dict[str, Any]) -> None:
        old = self._get_state(tuple(state))
        self._set_state(state)
        self._record(label, StateChange(old, state_extra_bytes(old, state)))

    def _get_state(self, keys: tuple[str, ...] = ("size", "layers", "mask", "frame",
                                                   "active")) -> dict[str, Any]:
        live = {"size": self.size, "layers": list(self._layers), "mask": self._mask,
                "frame": self._frame, "active": self._active}
        return {k: live[k] for k in keys}

    def _set_state(self, state: dict[str, Any]) -> None:
        if "size" in state and tuple(state["size"]) != self.size:
            self._width, self._height = state["size"]
            self._compositor.resize(self._width, self._height)
            self.events.size_changed.emit(self._width, self._height)
        if "layers" in state:
            active_uid = self.active_layer.uid if self.active_layer else None
            self._layers = list(state["layers"])
            uids = [layer.uid for layer in self._layers]
            self._active = -2  # force the event below
            target = uids.index(active_uid) if active_uid in uids else len(uids) - 1
            self.active_index = state.get("active", target)
            self.events.layers_changed.emit()
        if "mask" in state:
            self._mask = state["mask"]
            self.events.mask_changed.emit(self.rect)
        if "frame" in state:
            self._set_frame(state["frame"])
        elif "active" in state and "layers" not in state:
            self.active_index = state["active"]
        self._invalidate()

    def _insert(self, index: int, layer: Layer) -> None:
        self._layers.insert(index, layer)
        if self._active >= index:
            self._active += 1
        self.events.layers_changed.emit()
        self._invalidate(layer.bounds)

    def _remove(self, index: int) -> Layer:
        layer = self._layers.pop(index)
        if self._active >= len(self._layers):
            self._active = len(self._layers) - 1
        self.events.layers_changed.emit()
        self._invalidate(layer.bounds)
        return layer

    def _move(self, index: int, new_index: int) -> None:
        layer = self._layers.pop(index)
        self._layers.insert(new_index, layer)
        self.events.layers_changed.emit()
        self._invalidate(layer.bounds)

    def _set_props(self, uid: int, props: dict[str, Any]) -> None:
        layer = self._layers[self.index_of(uid)]
        old = layer.bounds
        for key, value in props.items():
            setattr(layer, key, value)
        self.events.layers_changed.emit()
        self._invalidate(old.union(layer.bounds))

    def _set_frame(self, rect: Rect) -> None:
        if rect != self._frame:
            self._frame = rect
            self.events.frame_changed.emit(rect)

    def _unique_name(self, base: str) -> str:
        names = {layer.name for layer in self._layers}
        if base not in names:
            return base
        n = 2
        while f"{base} {n}" in names:
            n += 1
        return f"{base} {n}"


def _check_size(width: int, height: int) -> None:
    if not (1 <= int(width) <= MAX_SIDE and 1 <= int(height) <= MAX_SIDE):
        raise ValueError(f"canvas size must be 1..{MAX_SIDE} pixels a side, got {width}x{height}")


def _relayer(layer: Layer, pixels: np.ndarray | None = None, **props: Any) -> Layer:
    """A new Layer object with the same uid; pixels are SHARED unless given.
    Sharing is safe because history swaps whole objects in linear order."""
    values = layer.props()
    values.update(props)
    new = Layer(layer.pixels if pixels is None else pixels, **values)
    new.uid = layer.uid
    return new


def _props_label(props: dict[str, Any]) -> str:
    keys = set(props)
    if keys == {"name"}:
        return "Rename layer"
    if keys <= {"x", "y"}:
        return "Move layer"
    if keys == {"visible"}:
        return "Show layer" if props["visible"] else "Hide layer"
    if keys == {"opacity"}:
        return "Layer opacity"
    if keys == {"blend"}:
        return "Blend mode"
    if keys == {"lock_alpha"}:
        return "Lock alpha" if props["lock_alpha"] else "Unlock alpha"
    return "Layer properties"
