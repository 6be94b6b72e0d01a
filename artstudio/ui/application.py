"""Owns what lives as long as the app: settings, engine, bridge, main window."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from artstudio import APP_NAME
from artstudio.engine import Engine
from artstudio.engine.model_cache import ModelCache, set_shared_cache
from artstudio.paths import unwritable_home_note
from artstudio.resources import icon_file
from artstudio.settings import load_settings, model_cache_budget_bytes
from artstudio.ui.engine_bridge import EngineBridge
from artstudio.ui.error_hook import ErrorHook
from artstudio.ui.instance_server import InstanceServer
from artstudio.ui.main_window import MainWindow
from artstudio.ui.theme import apply_dark_theme

log = logging.getLogger(__name__)


def _deliver_every_input_point() -> None:
    """X11 merges mouse moves that come faster than the app handles them (and
    tablets can be told to): a large brush at low zoom is slow enough per move
    that whole zigzag teeth were merged away. A painting app wants every point."""
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_CompressHighFrequencyEvents, False)
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_CompressTabletEvents, False)


class StudioApplication:
    def __init__(self, app: QApplication, log_file: Path | None = None,
                 startup_notes: Sequence[str] = (), show: bool = True):
        from artstudio.engine.devices import total_memory_bytes

        self.app = app
        app.setApplicationName(APP_NAME)
        app.setOrganizationName(APP_NAME)
        app.setWindowIcon(QIcon(str(icon_file())))
        apply_dark_theme(app)
        _deliver_every_input_point()
        self.settings, notes = load_settings()
        self.engine = Engine()
        self.model_cache = ModelCache(model_cache_budget_bytes(self.settings, total_memory_bytes()))
        set_shared_cache(self.model_cache)  # one budget for every model the app loads
        self.bridge = EngineBridge(self.engine)
        self.window = MainWindow(self.settings, self.engine, self.bridge, self.model_cache,
                                 log_file=log_file)
        self.error_hook = ErrorHook(self.window, log_file)
        self.error_hook.install()
        home = unwritable_home_note()  # last, so the status bar shows it
        for note in [*startup_notes, *notes, *([home] if home else [])]:
            log.warning(note)
            self.window.show_note(note)
        if show:
            self.window.show()
        # The probe imports torch (1-2 s of GIL-heavy work): start it once the
        # window has painted, not while it is being shown.
        self._probe_timer = QTimer(singleShot=True, interval=300)
        self._probe_timer.timeout.connect(self.window.look_for_device_and_models)
        self._probe_timer.start()
        self.instance_server: InstanceServer | None = None

    def serve_other_instances(self, key: str) -> bool:
        """Take the files a second `artstudio FILE` hands over (False when
        another window already takes them)."""
        server = InstanceServer(key, self.open_handed_over, self.window)
        if not server.listen():
            server.deleteLater()
            return False
        self.instance_server = server
        return True

    def open_handed_over(self, files: list[Path]) -> None:
        """Files another `artstudio FILE` handed over: the window comes to the
        front and the first opens as the document (asking about unsaved work
        first, as File > Open does); other images become its layers."""
        window = self.window
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.show()
        window.raise_()
        window.activateWindow()
        documents = [f for f in files if f.suffix.lower() == ".ora"]
        first = documents[0] if documents else files[0]
        rest = tuple(f for f in files if f != first and f.suffix.lower() != ".ora")
        window.documents.open(first, then_import=rest)

    def open_files(self, files: Sequence[str]) -> None:
        """Files named on the command line (with none, a blank canvas), then,
        whatever was opened, what a crash left to recover: a double-clicked
        file must not hide it."""
        if files:
            self.window.open_paths([Path(f) for f in files])
        else:
            self.window.open_blank_canvas()
        self.window.documents.offer_recovery_at_start()

    def close(self) -> None:
        """Stop workers and drop Qt objects before the QApplication goes, so
        nothing outlives it at interpreter exit."""
        self._probe_timer.stop()
        if self.instance_server is not None:
            self.instance_server.close()  # no file may arrive into a closing window
        self.window.documents.stop_autosave()
        self.error_hook.uninstall()
        self.bridge.detach()
        self.engine.shutdown(timeout=5)
        self.model_cache.unload_all()
        self.window.shutdown()
        self.bridge.deleteLater()
        self.app.processEvents()
