"""The start button, Cancel and progress bar every panel that runs a job shows."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton


def job_controls(label: str, object_name: str, on_start: Callable[[], object],
                 on_cancel: Callable[[], object]
                 ) -> tuple[QPushButton, QPushButton, QHBoxLayout, QProgressBar]:
    """(start, cancel, the row holding both, an idle progress bar)."""
    start = QPushButton(label)
    start.setObjectName(object_name)
    start.clicked.connect(on_start)
    cancel = QPushButton("Cancel")
    cancel.setEnabled(False)
    cancel.clicked.connect(on_cancel)
    row = QHBoxLayout()
    row.addWidget(start, 1)
    row.addWidget(cancel)
    progress = QProgressBar()
    progress.setRange(0, 1)
    progress.setValue(0)
    return start, cancel, row, progress
