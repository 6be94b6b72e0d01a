"""The live scheduler: every change to the frame asks for a picture of the
newest content, and only the newest.

At most one run is in flight and one waits: a change that arrives during a
run cancels it (the engine stops it at its next step) and the newest content
runs next, never a queue of strokes already painted over. Each run carries
the revision of the content it was made from; a result for an older
revision than the newest is dropped, so the live view never goes back in
time. The seed stays fixed while live, so the picture changes only where
the painting did.

The session imports no Qt. It is driven from one thread (the GUI's) through
`changed()`; runs are handed to a `submit` function (the window's JobRunner,
or `EngineSubmitter` without one) whose completion callback may come from a
worker thread, hence the lock.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from artstudio.diffusion.params import MAX_SEED, GenerationParams
from artstudio.engine import Engine, JobEvent, JobHandle, JobKind, JobState, Lane
from artstudio.engine.errors import RequestRefused
from artstudio.live.run import live_run

# on_finished(state, result, error) once per submitted run.
Finished = Callable[[JobState, Any, "str | None"], None]
Submit = Callable[[Callable, Any, str, Finished], JobHandle]


@dataclass(frozen=True)
class LiveRequest:
    """One snapshot of the frame: the generation and where its result belongs
    (a diffusion.results.ResultTarget in the window; opaque here)."""

    params: GenerationParams
    target: Any = None


@dataclass(frozen=True)
class LiveResult:
    revision: int
    request: LiveRequest
    result: Any  # a GenerationResult at the frame's size
    changed_at: float  # time.monotonic() of the change it shows


@dataclass
class LiveStats:
    started: int = 0
    cancelled: int = 0
    finished: int = 0  # delivered
    stale: int = 0  # finished for content already replaced, and dropped
    failed: int = 0


@dataclass
class _Run:
    revision: int
    request: LiveRequest
    changed_at: float
    handle: JobHandle | None = None
    cancel_asked: bool = False


class LiveSession:
    """`snapshot()` returns the frame's LiveRequest as it is now (raising
    RequestRefused when there is none to make); `on_result(LiveResult)` gets
    each current picture, `on_paused(message)` says why live stopped running
    (a model that failed to load, memory running out, nothing to snapshot)."""

    def __init__(self, submit: Submit, snapshot: Callable[[], LiveRequest],
                 on_result: Callable[[LiveResult], None],
                 on_paused: Callable[[str], None] | None = None, *, seed: int | None = None,
                 run: Callable = live_run):
        self._submit, self._snapshot = submit, snapshot
        self.run_fn = run  # the job function (a bench or a test may wrap it)
        self._on_result, self._on_paused = on_result, on_paused or (lambda _message: None)
        self._lock = threading.RLock()
        self.seed = secrets.randbelow(MAX_SEED + 1) if seed is None else int(seed)
        self.revision = 0
        self.active = False
        self.paused = ""  # why live is paused; "" while it runs
        self.stats = LiveStats()
        self._running: _Run | None = None
        self._pending: _Run | None = None

    # ---- what the artist does --------------------------------------------
    def start(self) -> None:
        """Go live: a first picture of the frame as it is. RequestRefused
        (nothing goes live) when there is nothing to make one from."""
        request = self._snapshot()
        with self._lock:
            self.active, self.paused = True, ""
            self.revision += 1
            self._schedule_locked(_Run(self.revision, request, time.monotonic()))

    def stop(self) -> None:
        with self._lock:
            self.active = False
            self._pending = None
            self._cancel_running_locked()

    def changed(self) -> None:
        """The frame's content changed (a stroke ended, a layer was toggled,
        the prompt was edited): the newest content runs next."""
        now = time.monotonic()
        with self._lock:
            self.revision += 1
            if not self.active or self.paused:
                return
            try:
                request = self._snapshot()
            except RequestRefused as refusal:
                self._pause_locked(str(refusal))
                message = self.paused
            else:
                self._schedule_locked(_Run(self.revision, request, now))
                return
        self._on_paused(message)

    def new_seed(self) -> int:
        """Another seed for the pictures that follow (and one of the frame now)."""
        with self._lock:
            self.seed = secrets.randbelow(MAX_SEED + 1)
        self.changed()
        return self.seed

    def resume(self) -> None:
        """Run again after a pause, from the frame as it is now."""
        with self._lock:
            self.paused = ""
        self.changed()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running is not None

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._pending is not None

    # ---- scheduling --------------------------------------------------------
    def _schedule_locked(self, run: _Run) -> None:
        if self._running is None:
            self._start_locked(run)
            return
        self._pending = run  # replaces any older one: one waits, the newest
        self._cancel_running_locked()

    def _cancel_running_locked(self) -> None:
        running = self._running
        if running is not None and not running.cancel_asked:
            running.cancel_asked = True
            if running.handle is not None:
                running.handle.cancel()

    def _start_locked(self, run: _Run) -> None:
        self._running = run
        self.stats.started += 1
        params = replace(run.request.params, seed=self.seed, seed_mode="fixed", count=1)
        request = replace(run.request, params=params)
        run.request = request
        handle = self._submit(self.run_fn, params, f"Live: {params.prompt[:30]}",
                              lambda state, result, error: self._finished(run, state, result,
                                                                          error))
        run.handle = handle
        if run.cancel_asked:  # a change came while it was being submitted
            handle.cancel()

    def _finished(self, run: _Run, state: JobState, result: Any, error: str | None) -> None:
        deliver: LiveResult | None = None
        paused = ""
        with self._lock:
            if self._running is run:
                self._running = None
            if state is JobState.DONE:
                if self.active and run.revision == self.revision:
                    self.stats.finished += 1
                    deliver = LiveResult(run.revision, run.request, result, run.changed_at)
                else:
                    self.stats.stale += 1
            elif state is JobState.CANCELLED:
                self.stats.cancelled += 1
            else:
                self.stats.failed += 1
                if self.active:
                    self._pause_locked(error or "The live picture failed")
                    paused = self.paused
            pending, self._pending = self._pending, None
            if pending is not None and self.active and not self.paused:
                self._start_locked(pending)
        if deliver is not None:
            self._on_result(deliver)
        if paused:
            self._on_paused(paused)

    def _pause_locked(self, message: str) -> None:
        self.paused = message
        self._pending = None


class EngineSubmitter:
    """`submit` for a session without a window: runs on the engine's GPU lane,
    `on_finished` called on the worker thread that ends the job."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._waiting: dict[int, Finished] = {}
        self._unsubscribe = engine.subscribe(self._event)

    def __call__(self, fn: Callable, params: Any, title: str, on_finished: Finished) -> JobHandle:
        handle = self.engine.submit(fn, params, kind=JobKind.GENERATE, lane=Lane.ACCELERATOR,
                                    title=title)
        with self._lock:
            self._waiting[handle.id] = on_finished
        if handle.state.finished:  # it ended before it was waited for
            self._fire(handle.id, handle.state, handle.result, handle.error)
        return handle

    def close(self) -> None:
        self._unsubscribe()

    def _event(self, event: JobEvent) -> None:
        if event.state.finished:
            self._fire(event.job_id, event.state, event.result, event.error)

    def _fire(self, job_id: int, state: JobState, result: Any, error: str | None) -> None:
        with self._lock:
            callback = self._waiting.pop(job_id, None)
        if callback is not None:
            callback(state, result, error)
