"""Painting tools on a Document: a round dab brush (paint, erase, mask),
flood fill and the colour picker.

Only the pixels under each dab are touched, so cost follows the brush size,
never the layer size. A stroke keeps a float "stroke alpha" buffer: flow
builds coverage up dab by dab, and opacity caps what one stroke can reach
(so overlapping dabs of a 50 % opacity stroke stay at 50 %), as in Krita.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from artstudio.document.document import MASK, Document, PixelTarget
from artstudio.document.geometry import TILE, Rect

_F = np.float32


@dataclass(frozen=True)
class BrushSettings:
    """How the brush paints. `size` is the diameter in pixels at full pressure.

    hardness: 1 = hard edge (still anti-aliased over one pixel), 0 = soft all
    the way to the centre. opacity: the most one stroke adds. flow: how much
    each dab adds. spacing: distance between dabs as a fraction of the
    diameter. pressure_size / pressure_opacity: which the pen pressure scales.
    """

    size: float = 20.0
    hardness: float = 0.8
    opacity: float = 1.0
    flow: float = 1.0
    color: tuple[int, int, int] = (0, 0, 0)
    spacing: float = 0.1
    pressure_size: bool = True
    pressure_opacity: bool = False
    eraser: bool = False

    def with_(self, **changes: object) -> BrushSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


class Brush:
    """Paints strokes into a layer or the mask of a document.

    One stroke = one undo step:

        brush = Brush(BrushSettings(size=40, color=(200, 30, 30)))
        brush.begin_stroke(doc, x, y, pressure)      # target: active layer
        brush.stroke_to(x2, y2, pressure2)           # dabs spaced along the way
        brush.end_stroke()

    `target` may be a layer index or `MASK` (then colour is ignored: paint
    adds to the mask, eraser removes). Lock alpha on the layer is respected.
    """

    def __init__(self, settings: BrushSettings | None = None) -> None:
        self.settings = settings or BrushSettings()
        self._doc: Document | None = None
        self.dabs = 0
        """Dabs placed in the current (or last) stroke."""

    @property
    def active(self) -> bool:
        return self._doc is not None

    def begin_stroke(self, doc: Document, x: float, y: float, pressure: float = 1.0,
                     target: int | str | None = None) -> Rect:
        """Start a stroke at (x, y) (document coordinates) with one dab.
        Returns the document rect that changed."""
        if self._doc is not None:
            self.end_stroke()
        if target is None:
            if doc.active_index < 0:
                raise ValueError("there is no layer to paint on")
            target = doc.active_index
        self._doc = doc
        doc.begin_edit("Erase" if self.settings.eraser else
                       ("Paint mask" if target == MASK else "Brush stroke"))
        self._target = doc.edit_target(target)
        shape = self._target.array.shape[:2]
        # np.zeros maps untouched pages lazily, so full-size buffers cost only
        # the memory under the stroke.
        self._alpha = np.zeros(shape, _F)
        self._orig = np.zeros(self._target.array.shape, np.uint8)
        self._saved = np.zeros((-(-shape[0] // TILE), -(-shape[1] // TILE)), bool)
        self._last = (float(x), float(y), float(pressure))
        self._carry = 0.0
        self.dabs = 0
        changed = self._dab(float(x), float(y), float(pressure))
        return self._announce(changed)

    def stroke_to(self, x: float, y: float, pressure: float = 1.0) -> Rect:
        """Continue the stroke to (x, y), placing dabs every `spacing` along the
        segment with pressure interpolated. Returns the document rect that changed."""
        if self._doc is None:
            raise RuntimeError("stroke_to before begin_stroke")
        x0, y0, p0 = self._last
        x1, y1, p1 = float(x), float(y), float(pressure)
        length = math.hypot(x1 - x0, y1 - y0)
        changed = Rect(0, 0, 0, 0)
        travelled = 0.0
        while length > 0:  # a pen held still (pressure changing only) places no dab
            t = travelled / length
            step = self._spacing(p0 + (p1 - p0) * t)
            # Falling pressure shrinks the spacing below what was already carried:
            # dab at once, never behind the segment's start.
            need = max(0.0, step - self._carry)
            if travelled + need > length:
                self._carry += length - travelled
                break
            travelled += need
            self._carry = 0.0
            t = travelled / length
            changed = changed.union(self._dab(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t,
                                              p0 + (p1 - p0) * t))
        self._last = (x1, y1, p1)
        return self._announce(changed)

    def end_stroke(self) -> None:
        """Finish the stroke: it becomes one undo step."""
        if self._doc is None:
            return
        doc, self._doc = self._doc, None
        del self._alpha, self._orig, self._saved, self._target
        doc.end_edit()

    # ------------------------------------------------------------ internals
    def _radius(self, pressure: float) -> float:
        s = self.settings
        scale = min(1.0, max(0.0, pressure)) if s.pressure_size else 1.0
        return max(0.5, s.size * 0.5 * scale)

    def _spacing(self, pressure: float) -> float:
        return max(0.5, self.settings.spacing * 2.0 * self._radius(pressure))

    def _announce(self, rect: Rect) -> Rect:
        if rect.empty:
            return rect
        self._target.changed(rect)
        return rect.translated(self._target.x, self._target.y)

    def _dab(self, x: float, y: float, pressure: float) -> Rect:
        """Place one dab; returns the changed rect in target coordinates."""
        s = self.settings
        tgt = self._target
        if s.eraser and tgt.lock_alpha:
            return Rect(0, 0, 0, 0)
        cx, cy = x - tgt.x, y - tgt.y
        r = self._radius(pressure)
        h, w = tgt.array.shape[:2]
        rect = Rect.from_edges(math.floor(cx - r), math.floor(cy - r),
                               math.ceil(cx + r) + 1, math.ceil(cy + r) + 1)
        rect = rect.intersect(Rect(0, 0, w, h))
        if rect.empty:
            return rect
        self.dabs += 1
        tgt.prepare(rect)
        self._save_orig(rect)
        coverage = dab_mask(cx - rect.x, cy - rect.y, r, s.hardness, rect.w, rect.h)
        flow = s.flow * (min(1.0, max(0.0, pressure)) if s.pressure_opacity else 1.0)
        sl = rect.slices()
        stroke = self._alpha[sl]
        stroke += (1.0 - stroke) * coverage * _F(flow)
        _apply_paint(tgt, self._orig[sl], stroke * _F(s.opacity), sl, s.eraser, s.color)
        return rect

    def _save_orig(self, rect: Rect) -> None:
        ty0, ty1 = rect.y // TILE, (rect.bottom - 1) // TILE + 1
        tx0, tx1 = rect.x // TILE, (rect.right - 1) // TILE + 1
        block = self._saved[ty0:ty1, tx0:tx1]
        if block.all():
            return
        for ty, tx in zip(*np.nonzero(~block), strict=True):
            sl = (slice((ty0 + ty) * TILE, (ty0 + ty + 1) * TILE),
                  slice((tx0 + tx) * TILE, (tx0 + tx + 1) * TILE))
            self._orig[sl] = self._target.array[sl]
        block[...] = True


def dab_mask(cx: float, cy: float, radius: float, hardness: float,
             width: int, height: int) -> np.ndarray:
    """Coverage 0..1 (float32, height x width) of a round dab centred at
    (cx, cy) in the block's pixel coordinates (pixel centres at +0.5)."""
    yy = np.arange(height, dtype=_F)[:, None] + _F(0.5 - cy)
    xx = np.arange(width, dtype=_F)[None, :] + _F(0.5 - cx)
    dist = np.sqrt(xx * xx + yy * yy)
    # A fade of at least one pixel keeps hard brushes anti-aliased.
    fade = max(1.0, radius * (1.0 - min(1.0, max(0.0, hardness))))
    cov = np.clip((_F(radius) - dist) / _F(fade), 0.0, 1.0)
    if fade > 1.0:
        cov = cov * cov * (3.0 - 2.0 * cov)  # smoothstep: soft brushes without a visible ring
    return cov.astype(_F, copy=False)


def _apply_paint(tgt: PixelTarget, orig: np.ndarray, alpha: np.ndarray,
                 sl: tuple[slice, slice], eraser: bool, color: tuple[int, int, int]) -> None:
    """Write orig + paint at per-pixel `alpha` (0..1) into the target."""
    if tgt.is_mask:
        o = orig.astype(_F)
        out = o * (1.0 - alpha) if eraser else o + (255.0 - o) * alpha
        tgt.array[sl] = (out + 0.5).astype(np.uint8)
        return
    tgt.array[sl] = paint_over(orig, alpha, color, eraser=eraser, lock_alpha=tgt.lock_alpha)


def paint_over(orig: np.ndarray, alpha: np.ndarray, color: tuple[int, int, int], *,
               eraser: bool = False, lock_alpha: bool = False) -> np.ndarray:
    """Straight RGBA `orig` with `color` painted at per-pixel `alpha` (0..1)."""
    a = alpha[..., None]
    o = orig.astype(_F) * _F(1.0 / 255.0)
    ao = o[..., 3:4]
    out = np.empty_like(o)
    if eraser:
        out[..., :3] = o[..., :3]
        out[..., 3:4] = ao * (1.0 - a)
    elif lock_alpha:
        col = np.asarray(color, _F) / 255.0
        out[..., :3] = o[..., :3] + (col - o[..., :3]) * a
        out[..., 3:4] = ao
    else:
        col = np.asarray(color, _F) / 255.0
        ar = a + ao * (1.0 - a)
        with np.errstate(divide="ignore", invalid="ignore"):
            rgb = (col * a + o[..., :3] * ao * (1.0 - a)) / ar
        out[..., :3] = np.where(ar > 0, rgb, o[..., :3])
        out[..., 3:4] = ar
    return (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# ---------------------------------------------------------------- flood fill
def fill_region(image: np.ndarray, x: int, y: int, tolerance: int = 0) -> np.ndarray:
    """Pixels 4-connected to (x, y) whose colour is within `tolerance` (0..255,
    largest channel difference, premultiplied so all transparent pixels match
    each other). Returns a bool (h, w) array."""
    h, w = image.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        return np.zeros((h, w), bool)
    px = image.astype(np.int32)
    if px.shape[2] == 4:
        px[..., :3] = (px[..., :3] * px[..., 3:4] + 127) // 255
    diff = np.abs(px - px[y, x]).max(axis=2)
    return _connected(diff <= tolerance, x, y)


def _connected(similar: np.ndarray, x: int, y: int) -> np.ndarray:
    """The 4-connected component of `similar` containing (x, y), found over
    horizontal runs so the Python loop runs once per run, not per pixel."""
    h, w = similar.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = similar
    step = np.diff(padded, axis=1)
    rows, starts = np.nonzero(step == 1)
    _, stops = np.nonzero(step == -1)
    row_index = np.searchsorted(rows, np.arange(h + 1))
    lo, hi = row_index[y], row_index[y + 1]
    seed = lo + int(np.flatnonzero((starts[lo:hi] <= x) & (stops[lo:hi] > x))[0])
    seen = np.zeros(len(rows), bool)
    seen[seed] = True
    pending = [seed]
    while pending:
        i = pending.pop()
        r, a, b = rows[i], starts[i], stops[i]
        for nr in (r - 1, r + 1):
            if 0 <= nr < h:
                lo, hi = row_index[nr], row_index[nr + 1]
                hit = (starts[lo:hi] < b) & (stops[lo:hi] > a) & ~seen[lo:hi]
                found = lo + np.flatnonzero(hit)
                seen[found] = True
                pending.extend(found.tolist())
    delta = np.zeros((h, w + 1), np.int32)
    np.add.at(delta, (rows[seen], starts[seen]), 1)
    np.add.at(delta, (rows[seen], stops[seen]), -1)
    return np.cumsum(delta, axis=1)[:, :w] > 0


def flood_fill(doc: Document, x: int, y: int, color: tuple[int, int, int], *,
               tolerance: int = 32, opacity: float = 1.0, sample_composite: bool = False,
               target: int | None = None) -> Rect:
    """Fill the region around (x, y) (document coordinates) in a layer
    (default: the active one) with `color`. The region is found in the layer
    itself, or in the composite with `sample_composite`. One undo step.
    Returns the changed document rect (empty if nothing was filled)."""
    index = doc.active_index if target is None else target
    if index < 0:
        raise ValueError("there is no layer to fill")
    layer = doc.layer(index)
    x, y = int(x), int(y)
    if sample_composite:
        region_doc = fill_region(doc.composite(), x, y, tolerance)
        region = np.zeros(layer.pixels.shape[:2], bool)
        part = layer.bounds.intersect(doc.rect)
        if not part.empty:
            region[part.translated(-layer.x, -layer.y).slices()] = region_doc[part.slices()]
    else:
        region = fill_region(layer.pixels, x - layer.x, y - layer.y, tolerance)
    ys, xs = np.nonzero(region)
    if len(ys) == 0:
        return Rect(0, 0, 0, 0)
    rect = Rect.from_edges(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    with doc.edit("Fill"):
        tgt = doc.edit_target(index)
        tgt.prepare(rect)
        sl = rect.slices()
        alpha = region[sl].astype(_F) * _F(opacity)
        tgt.array[sl] = paint_over(tgt.array[sl], alpha, color, lock_alpha=tgt.lock_alpha)
        tgt.changed(rect)
    return rect.translated(layer.x, layer.y)


def pick_color(doc: Document, x: int, y: int, layer: int | None = None,
               radius: int = 0) -> tuple[int, int, int, int]:
    """The straight RGBA colour at (x, y): of the composite, or of one layer.
    With `radius`, the alpha-weighted average of the square around it.
    Outside the image: (0, 0, 0, 0)."""
    if layer is None:
        source, origin = doc.composite(), (0, 0)
    else:
        lay = doc.layer(layer)
        source, origin = lay.pixels, (lay.x, lay.y)
    lx, ly = int(x) - origin[0], int(y) - origin[1]
    h, w = source.shape[:2]
    box = Rect(lx - radius, ly - radius, 2 * radius + 1, 2 * radius + 1).intersect(Rect(0, 0, w, h))
    if box.empty:
        return (0, 0, 0, 0)
    px = source[box.slices()].reshape(-1, 4).astype(np.float64)
    alpha = px[:, 3].sum()
    if alpha == 0:
        return (0, 0, 0, 0)
    rgb = (px[:, :3] * px[:, 3:4]).sum(axis=0) / alpha
    r, g, b = (round(float(v)) for v in rgb)
    return (r, g, b, round(float(alpha) / len(px)))
