"""Longest stall of the GUI event loop while a CPU-heavy job runs in the engine
(goal: < 50 ms). A 5 ms QTimer ticks on the GUI thread; the stall is the
longest gap between ticks minus the 5 ms period.

    python bench/ui_latency.py [seconds]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def heavy_job(seconds, progress, cancel):
    """What a model job does to the interpreter: torch kernels (which release
    the GIL) mixed with Python-level pre/post-processing (which holds it)."""
    import numpy as np
    import torch

    conv = torch.nn.Conv2d(16, 16, 3, padding=1)
    x = torch.rand(1, 16, 256, 256)
    end = time.monotonic() + seconds
    step = 0
    with torch.no_grad():
        while time.monotonic() < end:
            x = torch.tanh(conv(x))
            tile = np.asarray(x[0, :3].numpy() * 255, dtype=np.uint8)
            _ = sum(int(v) for v in tile[0, :64, :64].ravel())  # pure-Python work
            step += 1
            progress(step, 0, preview=tile.transpose(1, 2, 0) if step % 10 == 0 else None)
    return step


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    with tempfile.TemporaryDirectory() as home:
        os.environ["ARTSTUDIO_HOME"] = home
        from PySide6.QtCore import QElapsedTimer, QTimer
        from PySide6.QtWidgets import QApplication

        from artstudio.engine import JobKind, Lane
        from artstudio.ui.application import StudioApplication

        app = QApplication(sys.argv[:1])
        studio = StudioApplication(app, show=True)
        import torch  # noqa: F401  (imported before timing so it is not counted)

        clock = QElapsedTimer()
        gaps: list[int] = []
        last = [0]

        def tick():
            now = clock.elapsed()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(tick)
        handle = studio.window.runner.run(heavy_job, seconds, title="CPU-heavy job",
                                          kind=JobKind.OTHER, lane=Lane.ACCELERATOR)
        clock.start()
        timer.start()
        QTimer.singleShot(int(seconds * 1000) + 200, app.quit)
        app.exec()
        timer.stop()
        steps = handle.result
        studio.close()
    worst = max(gaps[1:]) - 5
    gaps.sort()
    p99 = gaps[int(len(gaps) * 0.99)] - 5
    print(f"gui_stall_ms max={worst} p99={p99} ticks={len(gaps)} job_steps={steps}")


if __name__ == "__main__":
    main()
