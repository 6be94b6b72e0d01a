"""The jobs queue: every job with its state, progress, ETA and a cancel button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from artstudio.engine import JobEvent, JobKind, JobState
from artstudio.engine.jobs import waiting_text

COL_TITLE, COL_STATE, COL_PROGRESS, COL_ETA, COL_CANCEL = range(5)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class JobsPanel(QWidget):
    cancel_requested = Signal(int)
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setObjectName("jobsTree")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(["Job", "State", "Progress", "ETA", ""])
        header = self.tree.header()
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(24)
        for col in (COL_STATE, COL_ETA, COL_CANCEL):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_PROGRESS, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_PROGRESS, 110)
        header.setStretchLastSection(False)
        self.clear_button = QPushButton("Clear finished")
        self.clear_button.clicked.connect(self.clear_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)
        layout.addLayout(buttons)
        self.setMinimumWidth(340)
        self._items: dict[int, QTreeWidgetItem] = {}
        self._bars: dict[int, QProgressBar] = {}
        self._cancel_buttons: dict[int, QToolButton] = {}

    def update_job(self, event: JobEvent) -> None:
        if event.kind is JobKind.INTERNAL:
            return
        item = self._items.get(event.job_id)
        if item is None:
            item = self._add_row(event)
        item.setText(COL_TITLE, event.title)
        item.setText(COL_STATE, event.state.value)
        item.setToolTip(COL_STATE, event.error or "")
        bar = self._bars[event.job_id]
        if event.progress is not None and event.progress.total > 0:
            bar.setRange(0, event.progress.total)
            bar.setValue(event.progress.step)
            if event.progress.message:
                item.setToolTip(COL_TITLE, event.progress.message)
        elif event.state is JobState.RUNNING:
            bar.setRange(0, 0)  # busy indicator until the first step arrives
        if event.state is JobState.DONE and not self._counts_itself(event):
            bar.setRange(0, 1)
            bar.setValue(1)
        elif event.state.finished and bar.maximum() == 0:
            bar.setRange(0, 1)
            bar.setValue(0)
        item.setText(COL_ETA, format_eta(event.eta_seconds) if event.state is JobState.RUNNING
                     else "")
        if event.state is JobState.FAILED and event.error:
            item.setText(COL_STATE, "failed")
            item.setToolTip(COL_TITLE, event.error)
        self._cancel_buttons[event.job_id].setEnabled(not event.state.finished)

    @staticmethod
    def _counts_itself(event: JobEvent) -> bool:
        # A batch's own count is the one its dialog shows: a batch that stopped
        # to ask before any work ends at 0 %, not full.
        return event.kind is JobKind.BATCH and event.progress is not None \
            and event.progress.total > 0

    def show_waiting(self, ahead: dict[int, int]) -> None:
        """Queued jobs say how many jobs they wait behind ({job id: count})."""
        for job_id, count in ahead.items():
            item = self._items.get(job_id)
            if item is not None:
                item.setText(COL_STATE, waiting_text(count).lower() if count else "queued")

    def _add_row(self, event: JobEvent) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree)
        bar = QProgressBar()
        bar.setRange(0, 1)
        bar.setValue(0)
        bar.setTextVisible(True)
        button = QToolButton()
        button.setText("✕")
        button.setToolTip("Cancel this job")
        button.setAutoRaise(True)
        job_id = event.job_id
        button.clicked.connect(lambda: self.cancel_requested.emit(job_id))
        self.tree.setItemWidget(item, COL_PROGRESS, bar)
        self.tree.setItemWidget(item, COL_CANCEL, button)
        self._items[job_id] = item
        self._bars[job_id] = bar
        self._cancel_buttons[job_id] = button
        return item

    def remove_finished(self, finished_ids: set[int]) -> None:
        for job_id in finished_ids:
            item = self._items.pop(job_id, None)
            if item is None:
                continue
            self._bars.pop(job_id, None)
            self._cancel_buttons.pop(job_id, None)
            index = self.tree.indexOfTopLevelItem(item)
            self.tree.takeTopLevelItem(index)

    # Helpers for views and tests that want to read the panel's state.
    def row_state(self, job_id: int) -> str | None:
        item = self._items.get(job_id)
        return item.text(COL_STATE) if item else None

    def row_progress(self, job_id: int) -> tuple[int, int] | None:
        bar = self._bars.get(job_id)
        return (bar.value(), bar.maximum()) if bar else None

    def row_progress_text(self, job_id: int) -> str | None:
        bar = self._bars.get(job_id)
        return bar.text() if bar else None

    def cancel_button(self, job_id: int) -> QToolButton | None:
        return self._cancel_buttons.get(job_id)

    def job_ids(self) -> list[int]:
        return list(self._items)

