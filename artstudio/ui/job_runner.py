"""Submitting work from the UI and getting its result back on the GUI thread.

    runner.run(fn, params, title="Upscale", on_done=apply_layer)

reads as a sentence (Anki's QueryOp habit): the function runs on a worker,
`on_done(result)`, `on_failed(message)` or `on_cancelled(result)` runs later
on the GUI thread. It is the one way UI code runs a job; views that show
progress follow `runner.bridge.job_changed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from artstudio.engine import Engine, JobEvent, JobHandle, JobKind, JobState, Lane
from artstudio.ui.engine_bridge import EngineBridge

Callbacks = tuple[JobHandle, Callable | None, Callable | None, Callable | None]


class JobRunner(QObject):
    def __init__(self, bridge: EngineBridge, parent: QObject | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self._callbacks: dict[int, Callbacks] = {}
        bridge.job_finished.connect(self._finished)

    @property
    def engine(self) -> Engine:
        return self.bridge.engine

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
        on_cancelled: Callable[[Any], None] | None = None,
    ) -> JobHandle:
        """`on_cancelled` gets what the function returned if it returned on
        cancellation (a folder batch returns its report), else None."""
        handle = self.engine.submit(fn, params, kind=kind, lane=lane, title=title)
        # Finished events arrive through the GUI thread's event queue, so the
        # callbacks are always registered before they can be needed.
        self._callbacks[handle.id] = (handle, on_done, on_failed, on_cancelled)
        return handle

    def delivered(self, handle: JobHandle) -> bool:
        """Whether the job's outcome has reached its callbacks (the engine
        says a job finished before the GUI thread has run them)."""
        return handle.id not in self._callbacks

    def forget(self, handle: JobHandle) -> None:
        """Drop a job's callbacks (their widget is going away); the job runs on."""
        self._callbacks.pop(handle.id, None)

    def _finished(self, event: JobEvent) -> None:
        callbacks = self._callbacks.pop(event.job_id, None)
        if callbacks is None:
            return
        handle, on_done, on_failed, on_cancelled = callbacks
        if event.state is JobState.DONE and on_done is not None:
            on_done(event.result)
        elif event.state is JobState.FAILED and on_failed is not None:
            on_failed(event.error or "failed")
        elif event.state is JobState.CANCELLED and on_cancelled is not None:
            on_cancelled(handle.result)
