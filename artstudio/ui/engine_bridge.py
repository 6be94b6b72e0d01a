"""Relays engine events to the GUI thread as Qt signals (QtCore only).

Engine listeners run on worker threads; emitting a signal of a QObject that
lives on the GUI thread queues the call there, so slots connected to
`job_changed` always run on the GUI thread and may touch widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from artstudio.engine.engine import Engine
from artstudio.engine.jobs import JobEvent


class EngineBridge(QObject):
    job_changed = Signal(object)  # every JobEvent
    job_finished = Signal(object)  # JobEvents whose state is done, failed or cancelled
    _relay = Signal(object)

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self._last_seq: dict[int, int] = {}
        self._relay.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe = engine.subscribe(self._relay.emit)

    def detach(self) -> None:
        """Stop relaying; call before the bridge or the QApplication goes."""
        self._unsubscribe()

    def _deliver(self, event: JobEvent) -> None:
        if event.seq <= self._last_seq.get(event.job_id, 0):
            return  # overtaken by a newer event of the same job
        self._last_seq[event.job_id] = event.seq
        self.job_changed.emit(event)
        if event.state.finished:
            self.job_finished.emit(event)
