"""Uncaught exceptions become a dialog and a log entry, never a dead app."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


class ErrorHook(QObject):
    _show = Signal(str, str)

    def __init__(self, parent_widget: QWidget, log_file: Path | None):
        super().__init__()
        self._parent = parent_widget
        self._log_file = log_file
        self._showing = False
        self._previous = None
        self._previous_thread = None
        self._show.connect(self._show_dialog, Qt.ConnectionType.QueuedConnection)
        self.shown: list[str] = []  # messages shown, for the status bar history and tests

    def install(self) -> None:
        self._previous, sys.excepthook = sys.excepthook, self._hook
        self._previous_thread, threading.excepthook = threading.excepthook, self._thread_hook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook = self._previous
            threading.excepthook = self._previous_thread
            self._previous = None

    def _hook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            return
        detail = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("uncaught exception\n%s", detail)
        self._show.emit(f"{exc_type.__name__}: {exc}", detail)

    def _thread_hook(self, args) -> None:
        self._hook(args.exc_type, args.exc_value, args.exc_traceback)

    def _show_dialog(self, message: str, detail: str) -> None:
        self.shown.append(message)
        if self._showing:  # one dialog at a time; the rest are in the log
            return
        self._showing = True
        try:
            where = f"\n\nDetails are in the log file:\n{self._log_file}" if self._log_file else ""
            box = QMessageBox(QMessageBox.Icon.Critical, "Something went wrong",
                              f"{message}\n\nYour document is still open.{where}",
                              QMessageBox.StandardButton.Ok, self._parent)
            box.setDetailedText(detail)
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.open()
            box.finished.connect(lambda _=None: setattr(self, "_showing", False))
        except Exception:  # the hook itself must never raise
            self._showing = False
            log.exception("could not show the error dialog")
