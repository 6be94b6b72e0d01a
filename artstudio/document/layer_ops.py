"""Document's layer operations: add, delete, duplicate, reorder, properties,
new pixels, merge and flatten. Each is one undo step.

A mixin of `Document`, which provides `_state` (the live contents) and
`_undo` (the recorder). Small structural changes record the primitive they
made and its inverse; changes that rebuild the stack swap whole parts.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from artstudio.document import guides
from artstudio.document.compose import compose
from artstudio.document.history import FuncChange
from artstudio.document.layers import BlendMode, Layer, check_pixels, new_pixels, relayer
from artstudio.document.state import DocumentState
from artstudio.document.undo import UndoRecorder

_PROPS = ("name", "opacity", "visible", "x", "y", "blend", "lock_alpha", "generation", "guide")


class LayerOperations:
    _state: DocumentState
    _undo: UndoRecorder

    def add_layer(self, pixels: np.ndarray | None = None, *, name: str | None = None,
                  index: int | None = None, x: int = 0, y: int = 0, opacity: float = 1.0,
                  visible: bool = True, blend: BlendMode | str = BlendMode.NORMAL,
                  lock_alpha: bool = False, generation: dict[str, Any] | None = None,
                  label: str = "Add layer") -> Layer:
        """Insert a layer (default: canvas-sized, transparent, above the active
        one) and make it active. `pixels` is copied."""
        state = self._state
        pixels = new_pixels(state.width, state.height) if pixels is None else pixels.copy()
        layer = Layer(pixels, name=name or self._next_numbered_name("Layer"), opacity=opacity,
                      visible=visible, x=int(x), y=int(y), blend=BlendMode(blend),
                      lock_alpha=lock_alpha, generation=generation)
        active = state.active_index
        if index is None:
            index = active + 1 if active >= 0 else len(state.layers)
        index = max(0, min(index, len(state.layers)))
        self._insert_with_undo(index, layer, label)
        return layer

    def add_generated_layer(self, pixels: np.ndarray, params: dict[str, Any], *,
                            name: str | None = None, x: int | None = None,
                            y: int | None = None) -> Layer:
        """Apply a generation result: a new layer placed at the frame (or x, y)
        that remembers its parameters. One undo step."""
        prompt = str(params.get("prompt", "")).strip()
        frame = self._state.frame
        return self.add_layer(pixels, name=name or (prompt[:40] if prompt else "Generated"),
                              x=frame.x if x is None else x,
                              y=frame.y if y is None else y,
                              generation=dict(params), label="Apply generation")

    def _insert_with_undo(self, index: int, layer: Layer, label: str) -> None:
        previous_active = self._state.active_index

        def do(state: DocumentState) -> None:
            state.insert(index, layer)
            state.active_index = index

        def undo(state: DocumentState) -> None:
            state.remove(index)
            state.active_index = previous_active

        do(self._state)
        # The new layer lives in the document, so history holds no extra bytes for it.
        self._undo.record(label, FuncChange(do, undo))

    def delete_layer(self, index: int) -> None:
        """Remove a layer (its pixels stay in history for undo)."""
        layer = self._state.layers[index]
        previous_active = self._state.active_index

        def do(state: DocumentState) -> None:
            state.remove(index)
            state.active_index = min(previous_active, len(state.layers) - 1)

        def undo(state: DocumentState) -> None:
            state.insert(index, layer)
            state.active_index = previous_active

        do(self._state)
        self._undo.record("Delete layer", FuncChange(do, undo, layer.pixels.nbytes))

    def duplicate_layer(self, index: int) -> Layer:
        """Copy a layer to just above itself; the copy becomes active."""
        source = self._state.layers[index]
        layer = source.copy()
        layer.name = self._unique_name(source.name + " copy")
        self._insert_with_undo(index + 1, layer, "Duplicate layer")
        return layer

    def move_layer(self, index: int, new_index: int) -> None:
        """Move a layer within the stack (indices bottom-first); it becomes active."""
        new_index = max(0, min(new_index, len(self._state.layers) - 1))
        if new_index == index:
            return
        uid = self._state.layers[index].uid
        previous_active = self._state.active_index

        def do(state: DocumentState) -> None:
            state.move(index, new_index)
            state.active_index = state.index_of(uid)

        def undo(state: DocumentState) -> None:
            state.move(new_index, index)
            state.active_index = previous_active

        do(self._state)
        self._undo.record("Move layer", FuncChange(do, undo))

    def set_layer_props(self, index: int, label: str | None = None, **props: Any) -> None:
        """Change layer properties in one undo step. Keys: name, opacity,
        visible, x, y, blend, lock_alpha, generation, guide. No-op if nothing
        changes."""
        unknown = set(props) - set(_PROPS)
        if unknown:
            raise TypeError(f"unknown layer properties: {sorted(unknown)}")
        layer = self._state.layers[index]
        if "blend" in props:
            props["blend"] = BlendMode(props["blend"])
        if "opacity" in props:
            props["opacity"] = float(min(1.0, max(0.0, props["opacity"])))
        for key in ("x", "y"):
            if key in props:
                props[key] = int(props[key])
        if "guide" in props:
            props["guide"] = guides.checked_guide(props["guide"])
        before = {k: getattr(layer, k) for k in props}
        if before == props:
            return
        uid = layer.uid
        self._state.set_props(uid, props)
        self._undo.record(label or _props_label(props),
                          FuncChange(lambda s: s.set_props(uid, props),
                                     lambda s: s.set_props(uid, before)))

    def set_layer_guide(self, index: int, guide: dict[str, Any] | None) -> None:
        """Make a layer a control layer, a region or a reference (`guide`, see
        `guides.py`), change its guide's settings, or make it plain paint again
        (None). One undo step; GuideError for a guide that cannot be used."""
        old = self._state.layers[index].guide
        new = guides.checked_guide(guide)
        if new is None:
            label = "Make plain layer"
        elif old is not None and old["role"] == new["role"]:
            label = "Guide settings"
        else:
            label = {guides.CONTROL: "Make control layer", guides.REGION: "Make region",
                     guides.REFERENCE: "Make reference layer"}[new["role"]]
        self.set_layer_props(index, label, guide=new)

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
        layer = self._state.layers[index]
        self.set_layer_props(index, x=layer.x + int(dx), y=layer.y + int(dy))

    def set_layer_pixels(self, index: int, pixels: np.ndarray, *, x: int | None = None,
                         y: int | None = None, label: str = "Replace layer pixels") -> None:
        """Replace a layer's pixels (a filter result, say); undo keeps only the
        tiles that differ when the size is unchanged."""
        pixels = check_pixels(pixels)
        layer = self._state.layers[index]
        same_place = (x is None or x == layer.x) and (y is None or y == layer.y)
        if pixels.shape == layer.pixels.shape and same_place:
            self._undo.overwrite(label, layer.uid, pixels)
            return
        new = relayer(layer, pixels=pixels.copy(),
                      x=layer.x if x is None else x, y=layer.y if y is None else y)
        layers = list(self._state.layers)
        layers[index] = new
        self._undo.apply_parts(label, {"layers": layers})

    def merge_down_is_exact(self, index: int) -> bool:
        """Can layer `index` and the one below become one layer that looks
        the same over whatever lies beneath? Yes when the upper shows nothing,
        when both are Normal (at any opacity), when the lower is Normal and
        fully opaque wherever the upper paints, or when nothing visible lies
        beneath the lower. Otherwise the upper's mode would have to blend
        with layers under the lower (or the lower's mode with the upper), and
        no single layer does that: ask before `merge_down`, or offer
        `merge_visible_down`."""
        upper, lower = self._merge_pair(index)
        if not _shows(upper):
            return True
        if not lower.visible:
            return False
        if lower.blend is BlendMode.NORMAL and upper.blend is BlendMode.NORMAL:
            return True
        area = lower.bounds.union(upper.bounds)
        if not [layer for layer in self._state.layers[:index - 1]
                if _shows(layer) and not layer.bounds.intersect(area).empty]:
            return True  # over transparency every mode is the source itself
        return lower.blend is BlendMode.NORMAL and _opaque_under(lower, upper)

    def merge_down(self, index: int) -> Layer:
        """Merge layer `index` into the one below it; returns the merged layer.

        When `merge_down_is_exact`, the result is both layers flattened with
        their modes and opacities into one Normal layer at full opacity, and
        the picture stays as it was. Otherwise the upper layer is blended into
        the lower's pixels and the lower's mode and opacity are kept, which
        changes the picture (no single layer can keep it then).
        """
        upper, lower = self._merge_pair(index)
        area = lower.bounds.union(upper.bounds) if _shows(upper) else lower.bounds
        if not _shows(upper):
            merged = relayer(lower, pixels=lower.pixels.copy())
        elif self.merge_down_is_exact(index):
            as_seen = relayer(lower, blend=BlendMode.NORMAL, visible=True)
            merged = Layer(compose([as_seen, upper], area), name=lower.name, x=area.x,
                           y=area.y, lock_alpha=lower.lock_alpha, generation=lower.generation,
                           guide=lower.guide)
        else:
            lower_solo = relayer(lower, opacity=1.0, blend=BlendMode.NORMAL, visible=True)
            merged = Layer(compose([lower_solo, upper], area), name=lower.name, x=area.x,
                           y=area.y, visible=lower.visible, opacity=lower.opacity,
                           blend=lower.blend, lock_alpha=lower.lock_alpha,
                           generation=lower.generation, guide=lower.guide)
        layers = list(self._state.layers)
        layers[index - 1: index + 1] = [merged]
        self._undo.apply_parts("Merge down", {"layers": layers, "active": index - 1})
        return merged

    def merge_visible_down(self, index: int) -> Layer:
        """Merge layer `index` with every visible layer below it into one
        Normal layer: the alternative when Merge Down cannot keep the picture
        (hidden layers below stay as they are, beneath it). One undo step."""
        self._merge_pair(index)
        below = self._state.layers[:index + 1]
        shown = [layer for layer in below if _shows(layer)]
        hidden = [layer for layer in below if not _shows(layer)]
        area = self._state.rect
        for layer in shown:
            area = area.union(layer.bounds)
        merged = Layer(compose(shown, area), name=self._state.layers[index].name,
                       x=area.x, y=area.y)
        layers = [*hidden, merged, *self._state.layers[index + 1:]]
        self._undo.apply_parts("Merge visible", {"layers": layers, "active": len(hidden)})
        return merged

    def _merge_pair(self, index: int) -> tuple[Layer, Layer]:
        if index <= 0:
            raise ValueError("the bottom layer has nothing to merge into")
        return self._state.layers[index], self._state.layers[index - 1]

    def flatten(self) -> Layer:
        """Replace all layers by one canvas-sized layer of the visible composite."""
        flat = Layer(compose(self._state.layers, self._state.rect), name="Background")
        self._undo.apply_parts("Flatten image", {"layers": [flat], "active": 0})
        return flat

    def _next_numbered_name(self, base: str) -> str:
        """"Layer 3" after "Layer 1" and "Layer 2", as Krita numbers new layers:
        one more than the highest number in use, so a name is never repeated."""
        pattern = re.compile(rf"{re.escape(base)} (\d+)")
        used = [int(m.group(1)) for layer in self._state.layers
                if (m := pattern.fullmatch(layer.name))]
        return f"{base} {max(used, default=0) + 1}"

    def _unique_name(self, base: str) -> str:
        names = {layer.name for layer in self._state.layers}
        if base not in names:
            return base
        n = 2
        while f"{base} {n}" in names:
            n += 1
        return f"{base} {n}"


def _shows(layer: Layer) -> bool:
    return layer.visible and layer.opacity > 0.0


def _opaque_under(lower: Layer, upper: Layer) -> bool:
    """Is `lower` (at its opacity) fully opaque wherever `upper` paints?"""
    paints = upper.pixels[..., 3] > 0
    if not paints.any():
        return True
    if lower.opacity < 1.0:
        return False
    alpha = np.zeros(paints.shape, np.uint8)
    part = lower.bounds.intersect(upper.bounds)
    if not part.empty:
        alpha[part.translated(-upper.x, -upper.y).slices()] = \
            lower.pixels[part.translated(-lower.x, -lower.y).slices()][..., 3]
    return bool((alpha[paints] == 255).all())


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
