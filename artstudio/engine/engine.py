"""The job engine: a single-worker accelerator lane and a parallel pool.

Jobs never touch widgets; listeners receive immutable JobEvents on worker
threads and must hand them to their own thread (see engine.qt_bridge).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable

from artstudio.engine.cancel import Cancelled
from artstudio.engine.errors import describe_error
from artstudio.engine.jobs import (
    JobEvent,
    JobKind,
    JobRecord,
    JobSpec,
    JobState,
    Lane,
    Progress,
    RunFn,
)
from artstudio.engine.model_cache import holding_models

log = logging.getLogger(__name__)

Listener = Callable[[JobEvent], None]

# Progress events are rate-limited so a job reporting thousands of tiny steps
# cannot flood the GUI thread; first, last and preview-bearing steps always pass.
PROGRESS_INTERVAL_S = 0.05
KEEP_FINISHED = 500


class JobHandle:
    """What `Engine.submit` returns: the job's id and ways to follow it."""

    def __init__(self, engine: Engine, record: JobRecord):
        self._engine = engine
        self._record = record

    @property
    def id(self) -> int:
        return self._record.id

    @property
    def state(self) -> JobState:
        return self._record.state

    @property
    def result(self):
        return self._record.result

    @property
    def error(self) -> str | None:
        return self._record.error

    def cancel(self) -> bool:
        return self._engine.cancel(self.id)

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job has finished (for the CLI and tests, never the GUI)."""
        if not self._record.done.wait(timeout):
            raise TimeoutError(f"job {self.id} still {self.state.value} after {timeout} s")
        return self._record.state


class _LaneWorkers:
    def __init__(self, engine: Engine, lane: Lane, count: int):
        self.lane = lane
        self.queue: deque[JobRecord] = deque()
        self.running: set[int] = set()
        self.threads = [
            threading.Thread(
                target=engine._work, args=(self,), name=f"artstudio-{lane.value}-{i}", daemon=True
            )
            for i in range(count)
        ]


class Engine:
    def __init__(self, pool_workers: int | None = None):
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._records: dict[int, JobRecord] = {}
        self._listeners: list[Listener] = []
        self._last_progress_emit: dict[int, float] = {}
        self._shutdown = False
        workers = pool_workers or max(2, os.cpu_count() or 2)
        self._lanes = {
            Lane.ACCELERATOR: _LaneWorkers(self, Lane.ACCELERATOR, 1),
            Lane.POOL: _LaneWorkers(self, Lane.POOL, workers),
        }
        for lane in self._lanes.values():
            for t in lane.threads:
                t.start()

    # ---- listeners -------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, record: JobRecord) -> None:
        with self._lock:
            event = self._snapshot_locked(record)
        self._deliver(event)

    def _snapshot_locked(self, record: JobRecord) -> JobEvent:
        record.seq += 1
        return JobEvent(
            job_id=record.id,
            kind=record.spec.kind,
            title=record.title,
            state=record.state,
            progress=record.progress,
            eta_seconds=record.eta_seconds(time.monotonic()),
            result=record.result if record.state is JobState.DONE else None,
            error=record.error,
            seq=record.seq,
        )

    def _deliver(self, event: JobEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("engine listener failed on %s", event)

    # ---- submitting and cancelling ----------------------------------------
    def submit(
        self,
        run: RunFn,
        params=None,
        *,
        kind: JobKind = JobKind.OTHER,
        lane: Lane = Lane.POOL,
        title: str = "",
    ) -> JobHandle:
        return self.submit_spec(JobSpec(run=run, params=params, kind=kind, lane=lane, title=title))

    def submit_spec(self, spec: JobSpec) -> JobHandle:
        record = JobRecord(spec=spec, submitted_at=time.monotonic())
        with self._lock:
            if self._shutdown:
                raise RuntimeError("the engine has shut down")
            self._records[record.id] = record
            # Taken before a worker can see the job: the first event says "queued"
            # even when a quick job is done by the time listeners hear of it.
            queued = self._snapshot_locked(record)
            self._lanes[spec.lane].queue.append(record)
            self._forget_old_locked()
            self._wake.notify_all()
        self._deliver(queued)
        return JobHandle(self, record)

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued job at once, or ask a running one to stop at its next
        step. Returns False when the job had already finished."""
        with self._lock:
            record = self._records.get(job_id)
            if record is None or record.state.finished:
                return False
            record.cancel.cancel()
            if record.state is not JobState.QUEUED:
                return True
            self._lanes[record.spec.lane].queue.remove(record)
            self._finish_locked(record, JobState.CANCELLED)
        self._emit(record)
        return True

    def cancel_all(self) -> None:
        for job_id in [r.id for r in self.jobs() if not r.state.finished]:
            self.cancel(job_id)

    # ---- inspecting ------------------------------------------------------
    def jobs(self) -> list[JobRecord]:
        with self._lock:
            return list(self._records.values())

    def get(self, job_id: int) -> JobRecord | None:
        with self._lock:
            return self._records.get(job_id)

    def clear_finished(self) -> None:
        with self._lock:
            for job_id in [i for i, r in self._records.items() if r.state.finished]:
                del self._records[job_id]

    def jobs_ahead(self, job_id: int) -> int:
        """How many jobs a queued job waits behind on its lane (those running
        there and those queued before it); 0 when it is about to start, runs or
        has ended."""
        with self._lock:
            record = self._records.get(job_id)
            if record is None or record.state is not JobState.QUEUED:
                return 0
            lane = self._lanes[record.spec.lane]
            ahead = len(lane.running) + list(lane.queue).index(record)
            return ahead if ahead >= len(lane.threads) else 0

    def busy(self) -> bool:
        with self._lock:
            return any(not r.state.finished for r in self._records.values())

    # ---- lifetime --------------------------------------------------------
    def shutdown(self, timeout: float = 10.0) -> bool:
        """Cancel everything and stop the workers. Returns False when a job did
        not reach a step boundary within `timeout` (its thread is a daemon)."""
        with self._lock:
            self._shutdown = True  # first, so no job slips in between
            self._wake.notify_all()
        self.cancel_all()
        deadline = time.monotonic() + timeout
        clean = True
        for lane in self._lanes.values():
            for t in lane.threads:
                t.join(max(0.0, deadline - time.monotonic()))
                clean = clean and not t.is_alive()
        return clean

    # ---- workers ---------------------------------------------------------
    def _work(self, lane: _LaneWorkers) -> None:
        while True:
            with self._lock:
                while not lane.queue and not self._shutdown:
                    self._wake.wait()
                if self._shutdown:
                    return
                record = lane.queue.popleft()
                record.state = JobState.RUNNING
                record.started_at = time.monotonic()
                lane.running.add(record.id)
            self._emit(record)
            self._run(record)
            with self._lock:
                lane.running.discard(record.id)
            self._emit(record)
            record.done.set()

    def _run(self, record: JobRecord) -> None:
        spec = record.spec

        def progress(step: int, total: int, message: str = "", preview=None) -> None:
            # Recorded before the cancel check: the count a job reports as it
            # stops is the one its final event carries (and every view shows).
            record.progress = Progress(step, total, message, preview)
            record.cancel.raise_if_cancelled()
            now = time.monotonic()
            last = self._last_progress_emit.get(record.id, 0.0)
            if preview is not None or step in (0, total) or now - last >= PROGRESS_INTERVAL_S:
                self._last_progress_emit[record.id] = now
                self._emit(record)

        try:
            record.cancel.raise_if_cancelled()
            with holding_models():  # what the job loads stays loaded until it ends
                result = spec.run(spec.params, progress, record.cancel)
        except Cancelled:
            state, result = JobState.CANCELLED, None
        except BaseException as exc:  # a job must never take a worker down
            record.error = describe_error(exc)
            record.error_detail = traceback.format_exc()
            log.error("job %s (%s) failed: %s\n%s", record.id, record.title, record.error,
                      record.error_detail)
            state, result = JobState.FAILED, None
        else:
            # A job that noticed the flag and returned early counts as cancelled.
            state = JobState.CANCELLED if record.cancel.cancelled else JobState.DONE
        with self._lock:
            record.result = result
            self._finish_locked(record, state)

    def _finish_locked(self, record: JobRecord, state: JobState) -> None:
        record.state = state
        record.finished_at = time.monotonic()
        self._last_progress_emit.pop(record.id, None)
        if record.started_at is None:
            # A job cancelled while queued never reaches a worker; release its waiters here.
            record.done.set()

    def _forget_old_locked(self) -> None:
        finished = [r for r in self._records.values() if r.state.finished]
        for record in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._records[record.id]


__all__ = ["Engine", "JobHandle", "JobKind", "Lane"]
