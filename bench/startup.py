"""Seconds from process start to the main window shown (goal: < 1.5 s on 2 cores).

Starts a fresh Python process that launches the app exactly as main.py does
and reports from the first event-loop turn after the window is shown; also
checks that torch was not imported before the window appeared.

    python bench/startup.py [runs]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
def shown():
    window = [w for w in app.topLevelWidgets() if w.objectName() == "MainWindow"]
    print("SHOWN", bool(window and window[0].isVisible()), "torch" in sys.modules, flush=True)
    app.quit()
QTimer.singleShot(0, shown)
from artstudio.app import run_gui
sys.exit(run_gui([]))
"""


def one_run(home: str) -> tuple[float, bool]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "ARTSTUDIO_HOME": home, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.wait(timeout=60)
    if not line.startswith("SHOWN True"):
        raise SystemExit(f"the window did not show: {line!r} {proc.stderr.read()}")
    return elapsed, line.split()[2] == "True"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as home:
        one_run(home)  # warm the OS file cache, as a second launch would be
        results = [one_run(home) for _ in range(runs)]
    times = [t for t, _ in results]
    torch_early = any(t for _, t in results)
    print(f"startup_to_window_s median={statistics.median(times):.3f} max={max(times):.3f} "
          f"runs={runs} torch_imported_before_window={torch_early}")


if __name__ == "__main__":
    main()
