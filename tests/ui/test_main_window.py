"""The window opens headless, runs jobs with visible progress, and closes cleanly."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from PySide6.QtCore import Qt

from artstudio.engine import JobState, Lane
from artstudio.settings import load_settings


def test_window_opens_with_panels_and_device(studio, qtbot):
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    assert window.jobs_dock.isVisible()
    # The device probe runs as a background job and lands in the status bar.
    qtbot.waitUntil(lambda: "detecting" not in window.device_label.text(), timeout=20000)
    assert "cpu" in window.device_label.text().lower()


def test_job_submitted_from_ui_shows_progress_and_completes(studio, qtbot):
    window = studio.window
    gate = threading.Event()
    results = []

    def job(params, progress, cancel):
        progress(1, 4, "first step")
        gate.wait(5)
        for step in range(2, 5):
            progress(step, 4)
            time.sleep(0.06)
        return "painted"

    handle = window.runner.run(job, title="Test job", lane=Lane.ACCELERATOR,
                               on_done=results.append)
    qtbot.waitUntil(lambda: window.jobs_panel.row_progress(handle.id) == (1, 4), timeout=5000)
    assert window.jobs_panel.row_state(handle.id) == "running"
    gate.set()
    qtbot.waitUntil(lambda: results == ["painted"], timeout=5000)
    assert window.jobs_panel.row_state(handle.id) == "done"
    value, maximum = window.jobs_panel.row_progress(handle.id)
    assert value == maximum


def test_cancel_button_cancels_running_job(studio, qtbot):
    window = studio.window
    started = threading.Event()

    def forever(params, progress, cancel):
        i = 0
        while True:
            progress(i, 10_000)
            started.set()
            time.sleep(0.005)
            i += 1

    handle = window.runner.run(forever, title="Endless", lane=Lane.ACCELERATOR)
    assert started.wait(5)
    qtbot.waitUntil(lambda: window.jobs_panel.cancel_button(handle.id) is not None, timeout=5000)
    button = window.jobs_panel.cancel_button(handle.id)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.jobs_panel.row_state(handle.id) == "cancelled", timeout=5000)
    assert handle.state is JobState.CANCELLED
    assert not button.isEnabled()


def test_failed_job_becomes_status_message(studio, qtbot):
    window = studio.window
    failures = []

    def broken(params, progress, cancel):
        raise OSError(28, "No space left on device", "/renders/out.png")

    window.runner.run(broken, title="Save render", on_failed=failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert failures == ["No space left on device (/renders/out.png)"]
    assert "Save render failed: No space left on device" in window.status_message.text()


def test_self_test_from_help_menu_runs_as_jobs(studio, qtbot):
    window = studio.window
    handles = window.run_self_test()
    for handle in handles:
        qtbot.waitUntil(lambda h=handle: h.state.finished, timeout=30000)
    assert [h.state for h in handles] == [JobState.DONE] * len(handles)
    qtbot.waitUntil(lambda: all(window.jobs_panel.row_state(h.id) == "done" for h in handles),
                    timeout=5000)


def test_settings_applied_and_saved(studio, qtbot, artstudio_home):
    from artstudio.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(studio.settings, studio.window)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.autosave.setValue(5)
    dialog.memory.setValue(2048)
    studio.window.apply_settings(dialog.result_settings())
    saved, notes = load_settings()
    assert notes == []
    assert (saved.device, saved.autosave_interval_s, saved.memory_budget_mb) == ("cpu", 300, 2048)
    assert studio.model_cache.budget_bytes == 2048 * 2**20


def test_tab_hides_and_restores_panels(studio, qtbot):
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.toggle_panels()
    assert not window.jobs_dock.isVisible()
    window.toggle_panels()
    assert window.jobs_dock.isVisible()


def test_uncaught_exception_shows_dialog_not_crash(studio, qtbot):
    try:
        raise RuntimeError("brush engine exploded")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: bool(studio.error_hook.shown), timeout=3000)
    assert studio.error_hook.shown == ["RuntimeError: brush engine exploded"]


def test_app_process_opens_and_exits_cleanly(tmp_path):
    """A real process: window shown offscreen, closed by a timer, exit code 0,
    and no crash from Qt objects outliving the QApplication."""
    script = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "import artstudio.app as a\n"
        "app = QApplication(sys.argv[:1])\n"
        "QTimer.singleShot(1500, app.quit)\n"
        "sys.exit(a.run_gui([]))\n"
    )
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen",
           "ARTSTUDIO_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "home" / "logs" / "artstudio.log").exists()


def test_window_is_built_from_what_it_is_given_and_shuts_down(qapp, qtbot):
    from artstudio.document.create import new_document
    from artstudio.engine import Engine
    from artstudio.engine.model_cache import ModelCache
    from artstudio.settings import Settings
    from artstudio.ui.engine_bridge import EngineBridge
    from artstudio.ui.main_window import MainWindow

    settings, engine = Settings(autosave_interval_s=60), Engine(pool_workers=1)
    bridge = EngineBridge(engine)
    window = MainWindow(settings, engine, bridge, ModelCache(2**20))
    assert window.settings is settings and window.documents.settings is settings
    assert window.generate_panel.settings is settings and window.runner.engine is engine
    assert window.documents.autosave_timer.isActive()
    window.documents.set_document(new_document(8, 8))
    bridge.detach()
    engine.shutdown()
    destroyed = []
    window.destroyed.connect(lambda: destroyed.append(1))
    window.shutdown()
    assert not window.documents.autosave_timer.isActive()
    assert window.canvas.doc is None
    qtbot.waitUntil(lambda: destroyed == [1], timeout=3000)


def test_settings_dialog_changes_reach_every_holder_of_the_settings(studio):
    import dataclasses

    settings = studio.settings
    studio.window.apply_settings(dataclasses.replace(settings, max_image_megapixels=12))
    assert studio.settings is settings and settings.max_image_megapixels == 12
    assert studio.window.documents.max_megapixels == 12


def test_the_window_module_does_not_import_the_application():
    code = ("import sys, artstudio.ui.main_window\n"
            "assert 'artstudio.ui.application' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={**__import__("os").environ,
                                           "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
