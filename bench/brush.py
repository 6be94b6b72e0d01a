"""A pressure stroke on a large layered document, painted through a real
CanvasView: brush-engine speed, per-update repaint time (goal: every update
under 16 ms) and memory (goal: history of 100 strokes costs a few hundred MB
at most).

A 4096x4096 document with 10 filled layers (blend modes and opacities mixed,
so compositing does real work) is shown in a 1600x1000 canvas. Tablet events
with varying pressure go through CanvasView.tabletEvent; after each move the
dirty widget area is repainted synchronously. Each update is timed whole,
from sending the tablet event (which paints the dabs into the layer) to the
end of the repaint (which composes the dirty cache tiles, then draws), and
its two parts are printed too. The stroke is painted once at "fit"
zoom and once at 100 %. The first full composite is timed on its own and
left out of the per-update figures. Memory: RSS taken by the document, then
history bytes and RSS growth after 100 more strokes (100 undo steps), and
after undoing all of them.

    python bench/brush.py                                   # full size, ~1-2 min
    python bench/brush.py --size 1024 --layers 4 --strokes 20   # quick
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

MB = 2**20
MODES = ("svg:src-over", "svg:multiply", "svg:screen", "svg:overlay", "svg:src-over",
         "svg:plus", "svg:darken", "svg:src-over", "svg:lighten", "svg:difference")


def rss() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_layers(size: int, count: int) -> list:
    """Canvas-sized layers with smooth colour fields and varying alpha; the
    bottom one opaque. Built row band by row band to keep temporaries small."""
    from artstudio.document import BlendMode, Layer

    layers = []
    band = 512
    xs = np.arange(size, dtype=np.float32) / size
    for i in range(count):
        px = np.empty((size, size, 4), np.uint8)
        for y0 in range(0, size, band):
            ys = (np.arange(y0, min(size, y0 + band), dtype=np.float32) / size)[:, None]
            x = xs[None, :]
            px[y0:y0 + band, :, 0] = (x * 255 * (i + 1)) % 256
            px[y0:y0 + band, :, 1] = ys * 255 * np.ones_like(x)
            px[y0:y0 + band, :, 2] = ((x + ys) * 127 + i * 23) % 256
            if i == 0:
                px[y0:y0 + band, :, 3] = 255
            else:
                wave = np.sin(x * (i + 3) * 6.2832) * np.cos(ys * (i + 2) * 6.2832)
                px[y0:y0 + band, :, 3] = (wave * 0.5 + 0.5) * 255
        layers.append(Layer(px, name=f"Layer {i + 1}", blend=BlendMode(MODES[i % len(MODES)]),
                            opacity=1.0 if i % 3 == 0 else 0.7))
    return layers


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class StrokeTimer:
    """Sends tablet events to the canvas and times the brush and the repaints."""

    def __init__(self, app, view, doc):
        from PySide6.QtGui import QPointingDevice

        self.app, self.view, self.doc = app, view, doc
        self.device = QPointingDevice.primaryPointingDevice()
        self.brush_s = 0.0
        self.composite_s = 0.0
        self.changed_px = 0
        brush = view._brush
        stroke_to = brush.stroke_to
        begin_stroke = brush.begin_stroke

        def timed_stroke_to(*a, **k):
            t = time.perf_counter()
            try:
                return stroke_to(*a, **k)
            finally:
                self.brush_s += time.perf_counter() - t

        def timed_begin(*a, **k):
            t = time.perf_counter()
            try:
                return begin_stroke(*a, **k)
            finally:
                self.brush_s += time.perf_counter() - t

        brush.stroke_to, brush.begin_stroke = timed_stroke_to, timed_begin
        compositor = doc.compositor
        image = compositor.image

        def timed_image(layers):
            t = time.perf_counter()
            try:
                return image(layers)
            finally:
                self.composite_s += time.perf_counter() - t

        compositor.image = timed_image
        doc.events.composite_changed.connect(self._changed)
        self._dirty = None
        self.rects: list = []

    def _changed(self, rect) -> None:
        self.changed_px += rect.area
        self._dirty = rect if self._dirty is None else self._dirty.union(rect)

    def _event(self, kind, x: float, y: float, pressure: float, pressed: bool):
        from PySide6.QtCore import QPointF, Qt
        from PySide6.QtGui import QTabletEvent

        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        button = none if kind == QTabletEvent.Type.TabletMove else left
        pos = self.view.doc_to_widget(QPointF(x, y))
        event = QTabletEvent(kind, self.device, pos, pos, pressure, 0, 0, 0, 0, 0,
                             Qt.KeyboardModifier.NoModifier, button, left if pressed else none)
        self.app.sendEvent(self.view, event)

    def stroke(self, cx: float, cy: float, dabs: int) -> dict:
        """One sinusoidal stroke from (cx - 420, cy) to the right, pressure
        swinging 0.3..1.0, until `dabs` dabs are down."""
        from PySide6.QtGui import QTabletEvent

        from artstudio.document import compose

        view = self.view
        self.app.processEvents()
        self.brush_s = self.composite_s = 0.0
        self.changed_px = 0
        pixels0 = self.doc.compositor.pixels_recomputed
        update_ms, event_ms, repaint_ms, composite_ms = [], [], [], []
        self.rects = []
        self._event(QTabletEvent.Type.TabletPress, cx - 420, cy, 0.3, True)
        i = 0
        x = y = p = 0.0
        while view._brush.dabs < dabs:
            i += 1
            x, y = cx - 420 + i * 6.0, cy + 150 * math.sin(i / 15)
            p = 0.3 + 0.7 * abs(math.sin(i / 40))
            self._dirty = None
            start = time.perf_counter()
            self._event(QTabletEvent.Type.TabletMove, x, y, p, True)  # paints the dabs
            if self._dirty is None:
                continue
            self.rects.append(self._dirty)
            count, comp = view.repaint_count, self.composite_s
            t = time.perf_counter()
            view.repaint(view._widget_rect(self._dirty))
            end = time.perf_counter()
            event_ms.append((t - start) * 1000)
            repaint_ms.append((end - t) * 1000)
            update_ms.append((end - start) * 1000)
            composite_ms.append((self.composite_s - comp) * 1000)
            if view.repaint_count != count + 1:
                raise SystemExit("the canvas did not repaint synchronously")
        self._event(QTabletEvent.Type.TabletRelease, x, y, p, False)
        self.app.processEvents()
        # What composing exactly the changed rects (not whole cache tiles) would cost.
        exact_ms = []
        for rect in self.rects:
            t = time.perf_counter()
            compose(self.doc.layers, rect)
            exact_ms.append((time.perf_counter() - t) * 1000)
        return {"exact_ms": exact_ms, "dabs": view._brush.dabs, "brush_s": self.brush_s,
                "repaint_ms": repaint_ms, "update_ms": update_ms, "event_ms": event_ms,
                "composite_ms": composite_ms, "changed_px": self.changed_px,
                "recomposed_px": self.doc.compositor.pixels_recomputed - pixels0}


def quick_strokes(doc, count: int, seed: int = 1) -> None:
    """`count` strokes straight on the document (one undo step each), of
    random size, place and length: 40..200 dabs each."""
    from artstudio.document import Brush, BrushSettings

    rng = random.Random(seed)
    for _ in range(count):
        size = rng.uniform(15, 90)
        brush = Brush(BrushSettings(size=size, hardness=rng.random(), spacing=0.1,
                                    color=(rng.randrange(256), 40, 200)))
        x, y = rng.uniform(0, doc.width), rng.uniform(0, doc.height)
        angle = rng.uniform(0, 2 * math.pi)
        brush.begin_stroke(doc, x, y, 0.5)
        target = rng.randrange(40, 200)
        n = 0
        while brush.dabs < target and n < 1000:
            n += 1
            angle += rng.uniform(-0.3, 0.3)
            nx, ny = x + 8 * math.cos(angle), y + 8 * math.sin(angle)
            if not (0 <= nx < doc.width and 0 <= ny < doc.height):
                angle += math.pi  # turn back at the edge (never a zero-length move)
                nx, ny = x + 8 * math.cos(angle), y + 8 * math.sin(angle)
            x, y = nx, ny
            brush.stroke_to(x, y, 0.4 + 0.6 * rng.random())
        brush.end_stroke()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=4096, help="document side in pixels")
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--dabs", type=int, default=500, help="dabs in the timed stroke")
    ap.add_argument("--brush-size", type=float, default=40.0)
    ap.add_argument("--strokes", type=int, default=100, help="strokes for the history figure")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from artstudio.document import BrushSettings, Document
    from artstudio.ui.canvas_view import CanvasView

    rss0 = rss()
    t = time.perf_counter()
    layers = make_layers(args.size, args.layers)
    pixel_bytes = sum(layer.pixels.nbytes for layer in layers)
    doc = Document.from_layers(args.size, args.size, layers, active=len(layers) - 1)
    build_s = time.perf_counter() - t

    view = CanvasView()
    view.resize(1600, 1000)
    view.show()
    for _ in range(3):
        app.processEvents()
    timer = StrokeTimer(app, view, doc)
    view.set_document(doc)
    t = time.perf_counter()
    view.repaint()  # the first full composite of every layer
    first_s = time.perf_counter() - t
    rss_doc = rss() - rss0
    view.set_brush_settings(BrushSettings(size=args.brush_size, hardness=0.7,
                                          color=(200, 40, 40), spacing=0.1))

    centre = args.size / 2
    results = {}
    for zoom in ("fit", "100%"):
        if zoom == "100%":
            view.actual_size()
        results[zoom] = timer.stroke(centre, centre, args.dabs)

    hist0, rss1 = doc.history.nbytes, rss()
    t = time.perf_counter()
    quick_strokes(doc, args.strokes)
    strokes_s = time.perf_counter() - t
    doc.composite()
    rss2 = rss()
    hist = doc.history.nbytes - hist0
    t = time.perf_counter()
    for _ in range(args.strokes):
        doc.undo()
    undo_s = time.perf_counter() - t
    doc.composite()
    rss3 = rss()

    dabs = sum(r["dabs"] for r in results.values())
    brush_s = sum(r["brush_s"] for r in results.values())
    print(f"document {args.size}x{args.size} x {args.layers} layers: built in {build_s:.1f} s, "
          f"first full composite + repaint {first_s:.2f} s")
    print(f"brush_dabs_per_s={dabs / brush_s:.0f} (stroke_to only, brush {args.brush_size:g} px, "
          f"{dabs} dabs)")
    for zoom, r in results.items():
        ms, comp = r["update_ms"], r["composite_ms"]
        ev, rp = r["event_ms"], r["repaint_ms"]
        print(f"stroke_update_ms zoom={zoom} (tablet event painting the dabs + repaint) "
              f"median={statistics.median(ms):.1f} p95={pct(ms, 0.95):.1f} max={max(ms):.1f} "
              f"over16={sum(m > 16 for m in ms)}/{len(ms)} updates; event part "
              f"median={statistics.median(ev):.1f} max={max(ev):.1f}; repaint part "
              f"median={statistics.median(rp):.1f} max={max(rp):.1f}; composite part "
              f"median={statistics.median(comp):.1f} "
              f"max={max(comp):.1f}; recomposed {r['recomposed_px'] / max(1, r['changed_px']):.1f}"
              f"x the changed pixels (composing just those: median="
              f"{statistics.median(r['exact_ms']):.1f} max={max(r['exact_ms']):.1f})")
    print(f"memory_mb document_rss={rss_doc / MB:.0f} (layer pixels {pixel_bytes / MB:.0f}) "
          f"history_after_{args.strokes}_strokes={hist / MB:.1f} "
          f"rss_growth={(rss2 - rss1) / MB:.0f} "
          f"rss_growth_after_undoing_all={(rss3 - rss1) / MB:.0f} "
          f"(strokes {strokes_s:.1f} s, undo all {undo_s:.2f} s)")
    view.close()


if __name__ == "__main__":
    main()
