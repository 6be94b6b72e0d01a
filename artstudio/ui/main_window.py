"""The main window: canvas area, dock panels, menus and status bar."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from artstudio import APP_NAME, __version__
from artstudio.engine import JobEvent, JobKind, JobState, Lane
from artstudio.settings import save_settings
from artstudio.ui.job_runner import JobRunner
from artstudio.ui.jobs_panel import JobsPanel

if TYPE_CHECKING:
    from artstudio.ui.application import StudioApplication

log = logging.getLogger(__name__)


def _probe_device(params, progress, cancel) -> str:
    from artstudio.engine.devices import choose_device

    device, precision = params
    choice = choose_device(device, precision)
    return choice.describe()


def _run_capability(target, progress, cancel) -> str:
    """Runs one self-test capability as a job (imported lazily: torch etc.)."""
    import tempfile

    from artstudio.selftest import Capability, run_check

    name, module_function = target
    progress(0, 1, name)
    with tempfile.TemporaryDirectory(prefix="artstudio-selftest-") as tmp:
        result = run_check(Capability(name, module_function), Path(tmp))
    progress(1, 1, name)
    if not result.ok:
        raise RuntimeError(result.detail)
    return result.detail


class MainWindow(QMainWindow):
    def __init__(self, studio: StudioApplication, log_file: Path | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.studio = studio
        self.log_file = log_file
        self.setWindowTitle(APP_NAME)
        self.setObjectName("MainWindow")
        self.resize(1280, 820)
        self.runner = JobRunner(studio.bridge, self)

        self.canvas_area = QLabel(
            "No document open\n\nThe canvas lives here: paint, mask and generate in layers.")
        self.canvas_area.setObjectName("canvasPlaceholder")
        self.canvas_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.canvas_area.setStyleSheet("QLabel#canvasPlaceholder { background: #3a3a3e; "
                                       "color: #b8b8c0; font-size: 15px; }")
        self.setCentralWidget(self.canvas_area)

        self.jobs_panel = JobsPanel()
        self.jobs_dock = self._add_dock("Jobs", self.jobs_panel,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.jobs_panel.cancel_requested.connect(studio.engine.cancel)
        self.jobs_panel.clear_requested.connect(self._clear_finished_jobs)

        self.status_message = QLabel("Ready")
        self.device_label = QLabel("Device: detecting…")
        self.device_label.setObjectName("deviceLabel")
        self.jobs_label = QLabel("")
        self.statusBar().addWidget(self.status_message, 1)
        self.statusBar().addPermanentWidget(self.jobs_label)
        self.statusBar().addPermanentWidget(self.device_label)

        studio.bridge.job_changed.connect(self._on_job_changed)
        self._build_menus()
        self._hidden_docks: list[QDockWidget] = []

    # ---- construction ----------------------------------------------------
    def _add_dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.jobs_dock.toggleViewAction())
        self.toggle_panels_action = QAction("Hide &Panels", self, shortcut=QKeySequence("Tab"))
        self.toggle_panels_action.triggered.connect(self.toggle_panels)
        view_menu.addAction(self.toggle_panels_action)

        tools_menu = bar.addMenu("&Tools")
        settings_action = QAction("&Settings…", self, shortcut=QKeySequence("Ctrl+,"))
        settings_action.triggered.connect(self.open_settings)
        tools_menu.addAction(settings_action)
        unload_action = QAction("&Unload All Models", self)
        unload_action.triggered.connect(self._unload_models)
        tools_menu.addAction(unload_action)

        help_menu = bar.addMenu("&Help")
        self.self_test_action = QAction("Run &Self-Test", self)
        self.self_test_action.triggered.connect(self.run_self_test)
        help_menu.addAction(self.self_test_action)
        about = QAction(f"&About {APP_NAME}", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # ---- status ----------------------------------------------------------
    def show_note(self, text: str, timeout_ms: int = 0) -> None:
        self.status_message.setText(text)
        self.status_message.setToolTip(text)
        if timeout_ms:
            self.statusBar().showMessage(text, timeout_ms)

    def _on_job_changed(self, event: JobEvent) -> None:
        self.jobs_panel.update_job(event)
        jobs = self.studio.engine.jobs()
        running = sum(r.state is JobState.RUNNING for r in jobs)
        queued = sum(r.state is JobState.QUEUED for r in jobs)
        self.jobs_label.setText(f"{running} running, {queued} queued" if running or queued else "")
        if event.state is JobState.FAILED:
            self.show_note(f"{event.title} failed: {event.error}")
        elif event.state is JobState.CANCELLED:
            self.show_note(f"{event.title} cancelled")

    def _clear_finished_jobs(self) -> None:
        finished = {r.id for r in self.studio.engine.jobs() if r.state.finished}
        self.studio.engine.clear_finished()
        self.jobs_panel.remove_finished(finished)

    # ---- actions ---------------------------------------------------------
    def probe_device(self) -> None:
        """Find the compute device on a worker: importing torch takes seconds."""
        s = self.studio.settings
        self.runner.run(
            _probe_device, (s.device, s.precision), title="Detect compute device",
            kind=JobKind.INTERNAL, lane=Lane.POOL,
            on_done=lambda text: self.device_label.setText(f"Device: {text}"),
            on_failed=lambda msg: self.device_label.setText("Device: CPU (torch unavailable)"),
        )

    def run_self_test(self) -> list:
        from artstudio.selftest import CAPABILITIES

        def report(name):
            return lambda detail: self.show_note(f"Self-test {name}: {detail}")

        return [
            self.runner.run(_run_capability, (c.name, c.target), title=f"Self-test: {c.name}",
                            kind=JobKind.SELF_TEST, lane=Lane.POOL, on_done=report(c.name))
            for c in CAPABILITIES
        ]

    def open_settings(self) -> None:
        from artstudio.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.studio.settings, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog.result_settings())

    def apply_settings(self, settings) -> None:
        from artstudio.engine.devices import total_memory_bytes
        from artstudio.settings import model_cache_budget_bytes

        self.studio.settings = settings
        self.studio.model_cache.set_budget(model_cache_budget_bytes(settings, total_memory_bytes()))
        problem = save_settings(settings)
        if problem:
            QMessageBox.warning(self, "Settings not saved",
                                f"{problem}\n\nThe new settings apply until you quit.")
        self.probe_device()

    def _unload_models(self) -> None:
        self.studio.model_cache.unload_all()
        self.show_note("All models unloaded", 3000)

    def toggle_panels(self) -> None:
        """Tab hides every panel for a clean canvas, and brings them back."""
        if self._hidden_docks:
            for dock in self._hidden_docks:
                dock.show()
            self._hidden_docks = []
        else:
            self._hidden_docks = [d for d in self.findChildren(QDockWidget) if d.isVisible()]
            for dock in self._hidden_docks:
                dock.hide()

    def _about(self) -> None:
        where = f"<p>Log file: {self.log_file}</p>" if self.log_file else ""
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<h3>{APP_NAME} {__version__}</h3>"
                          "<p>A painting application with local generative models beside the "
                          f"brush. Everything runs on this computer.</p>{where}")
