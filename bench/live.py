"""Live mode under a scripted painting session (issue 18): the tiny random
SD1 model on the CPU, the real window's document, canvas, Live toggle and
session, the engine in-process.

50 strokes of 20 to 40 mouse moves 8 ms apart (a 120 Hz mouse), with pauses
of 0.1 to 1.2 s between strokes (seeded), painted into the frame of a
768x640 document while Live is on. Each move is timed from sending it to the
canvas to the end of a synchronous repaint of the canvas; the release (where
the stroke's snapshot is taken and its run handed to the engine) is timed
on its own. Printed: latency from a stroke's end to the first picture shown
for its content or newer (median, p95), runs started / cancelled / finished
and finished-but-stale (goal 0), the worst canvas update while live (goal
< 16 ms) and model loads (goal 1).

    python bench/live.py [--strokes 50] [--seed 1] [--pauses 0.1 1.2] [--no-live]

--no-live paints the same strokes with Live off: the canvas figures to compare.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

MOVE_INTERVAL_S = 0.008


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def wait(app, seconds: float) -> None:
    """Let the event loop run (results arrive through it) for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pauses", type=float, nargs=2, default=(0.1, 1.2),
                        metavar=("MIN", "MAX"), help="seconds between strokes")
    parser.add_argument("--no-live", action="store_true", help="the same strokes, Live off")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="live-bench-")
    os.environ["ARTSTUDIO_HOME"] = home

    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    from tiny_pipelines import save_tiny_models

    from artstudio.diffusion import loading
    from artstudio.document import Rect
    from artstudio.document.create import new_document
    from artstudio.model_files.identify import identify
    from artstudio.ui.application import StudioApplication

    loads = []
    real_load = loading.load_model

    def counted_load(*a, **k):
        loads.append(a[0])
        return real_load(*a, **k)

    loading.load_model = counted_load
    model = save_tiny_models(Path(home) / "models", kinds=("sd1",))["sd1"]["diffusers"]

    app = QApplication.instance() or QApplication(sys.argv)
    studio = StudioApplication(app, show=True)
    studio._probe_timer.stop()  # no model scan: the bench names its model
    window = studio.window
    panel = window.generate_panel
    panel.set_models([identify(model)])
    doc = new_document(768, 640)
    doc.set_frame(Rect(128, 64, 512, 512))
    doc.clear_history()
    window.documents.set_document(doc)
    panel.prompt.setPlainText("a lake between mountains")
    canvas = window.canvas
    canvas.set_zoom(1.0)
    canvas._pan = QPointF(0, 0)
    wait(app, 0.3)

    shown: list[tuple[float, int]] = []  # (time, revision) of each picture shown
    live = panel.live
    live.result_ready.connect(lambda r: shown.append((time.monotonic(), r.revision)))
    live.toggle.setChecked(not args.no_live)
    if not live.session.active and not args.no_live:
        raise SystemExit(f"live did not start: {live.note.text()}")
    deadline = time.monotonic() + (0 if args.no_live else 120)
    while not shown and time.monotonic() < deadline:
        wait(app, 0.01)
    shown.clear()

    def send(kind, x, y):
        pos = QPointF(x, y)
        button = (Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove
                  else Qt.MouseButton.LeftButton)
        buttons = (Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseButtonRelease
                   else Qt.MouseButton.LeftButton)
        QApplication.sendEvent(canvas, QMouseEvent(kind, pos, QPointF(canvas.mapToGlobal(pos)),
                                                   button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))

    rng = random.Random(args.seed)
    update_ms, release_ms, ends = [], [], []  # ends: (time, revision) per stroke
    for _ in range(args.strokes):
        x, y = rng.uniform(140, 620), rng.uniform(80, 560)
        send(QMouseEvent.Type.MouseButtonPress, x, y)
        for _move in range(rng.randint(20, 40)):
            x = min(630, max(130, x + rng.uniform(-12, 12)))
            y = min(570, max(70, y + rng.uniform(-12, 12)))
            t = time.perf_counter()
            send(QMouseEvent.Type.MouseMove, x, y)
            canvas.repaint()
            update_ms.append((time.perf_counter() - t) * 1000)
            wait(app, MOVE_INTERVAL_S)
        t = time.perf_counter()
        send(QMouseEvent.Type.MouseButtonRelease, x, y)
        release_ms.append((time.perf_counter() - t) * 1000)
        ends.append((time.monotonic(), live.session.revision))
        wait(app, rng.uniform(*args.pauses))
    deadline = time.monotonic() + 60
    while (live.session.busy or live.session.pending) and time.monotonic() < deadline:
        wait(app, 0.01)
    wait(app, 0.1)

    latencies = []
    for end_time, revision in ends:
        later = [t for t, rev in shown if rev >= revision and t >= end_time]
        if later:
            latencies.append((later[0] - end_time) * 1000)
    stats = live.session.stats
    live.toggle.setChecked(False)
    print(f"strokes {len(ends)}, pictures shown {len(shown)}, "
          f"strokes with a picture {len(latencies)}")
    if latencies:
        print(f"latency stroke end -> picture: median {statistics.median(latencies):.0f} ms, "
              f"p95 {pct(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms")
    print(f"runs started {stats.started}, cancelled {stats.cancelled}, finished {stats.finished}, "
          f"finished but stale {stats.stale} (goal 0), failed {stats.failed}")
    state = "Live off" if args.no_live else "live"
    print(f"canvas update while {state}: median {statistics.median(update_ms):.1f} ms, "
          f"p95 {pct(update_ms, 0.95):.1f} ms, max {max(update_ms):.1f} ms over "
          f"{len(update_ms)} updates, {sum(u > 16 for u in update_ms)} over 16 ms (goal: none)")
    print(f"stroke release (snapshot and hand-over): median "
          f"{statistics.median(release_ms):.1f} ms, max {max(release_ms):.1f} ms")
    runs = [(j.finished_at - j.started_at) * 1000 for j in studio.engine.jobs()
            if j.title.startswith("Live") and j.state.value == "done"]
    if runs:
        print(f"a finished run took: median {statistics.median(runs):.0f} ms over {len(runs)} "
              f"(the warm-up's model load included); load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")
    print(f"model loads {len(loads)} (goal 1)")
    studio.close()


if __name__ == "__main__":
    main()
