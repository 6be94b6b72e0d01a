"""Submitting work from the UI and getting its result back on the GUI thread.

    runner.run(fn, params, title="Upscale", on_done=apply_layer)

reads as a sentence (Anki's QueryOp habit): the function runs on a worker,
`on_done(result)` or `on_failed(message)` runs later on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from artstudio.engine import JobEvent, JobHandle, JobKind, JobState, Lane
from artstudio.ui.engine_bridge import EngineBridge


class JobRunner(QObject):
    def __init__(self, bridge: EngineBridge, parent: QObject | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self._callbacks: dict[int, tuple[Callable | None, Callable | None]] = {}
        bridge.job_finished.connect(self._finished)

    def run(
        self,
        fn: Callable,
        params: Any = None,
        *,
        title: str,
        kind: JobKind = JobKind.OTHER,
        lane: Lane = Lane.POOL,
        on_done: Callable[[Any], None] | None = None,
        on_failed: Callable[[str], None] | None = None,
    ) -> JobHandle:
        handle = self.bridge.engine.submit(fn, params, kind=kind, lane=lane, title=title)
        # Finished events arrive through the GUI thread's event queue, so the
        # callbacks are always registered before they can be needed.
        self._callbacks[handle.id] = (on_done, on_failed)
        return handle

    def _finished(self, event: JobEvent) -> None:
        callbacks = self._callbacks.pop(event.job_id, None)
        if callbacks is None:
            return
        on_done, on_failed = callbacks
        if event.state is JobState.DONE and on_done is not None:
            on_done(event.result)
        elif event.state is JobState.FAILED and on_failed is not None:
            on_failed(event.error or "failed")
