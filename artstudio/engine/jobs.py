"""What a job is: its kind, lane, state, parameters and the messages it sends."""

from __future__ import annotations

import enum
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from artstudio.engine.cancel import CancelToken


class Lane(enum.Enum):
    """Where a job runs. The accelerator lane has exactly one worker so two
    models never compete for VRAM; the pool runs file work and CPU networks."""

    ACCELERATOR = "accelerator"
    POOL = "pool"


class JobKind(enum.Enum):
    GENERATE = "generate"
    INTERPOLATE = "interpolate"
    STYLE = "style"
    UPSCALE = "upscale"
    BATCH = "batch"
    FILE = "file"
    SELF_TEST = "self-test"
    OTHER = "other"
    INTERNAL = "internal"  # housekeeping the artist need not see in the queue


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class Progress(NamedTuple):
    """One step of a running job, as the job reports it."""

    step: int
    total: int
    message: str = ""
    preview: Any = None  # a PIL image or HxWxC uint8 array, small enough to show


class ProgressFn(Protocol):
    def __call__(
        self, step: int, total: int, message: str = "", preview: Any = None
    ) -> None: ...


RunFn = Callable[[Any, ProgressFn, CancelToken], Any]

_ids = itertools.count(1)


@dataclass(frozen=True)
class JobSpec:
    """Everything needed to run a job: a plain function and an immutable
    snapshot of its parameters, taken on the GUI thread before submission."""

    run: RunFn
    params: Any = None
    kind: JobKind = JobKind.OTHER
    lane: Lane = Lane.POOL
    title: str = ""


@dataclass
class JobRecord:
    """The engine's view of one job; snapshots of it travel in events."""

    spec: JobSpec
    id: int = field(default_factory=lambda: next(_ids))
    state: JobState = JobState.QUEUED
    progress: Progress | None = None
    result: Any = None
    error: str | None = None
    error_detail: str | None = None
    submitted_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    seq: int = 0  # bumped for every event, so consumers can drop stale ones

    @property
    def title(self) -> str:
        return self.spec.title or self.spec.kind.value

    def eta_seconds(self, now: float) -> float | None:
        """Remaining time extrapolated from the steps done so far."""
        p = self.progress
        if self.started_at is None or p is None or p.total <= 0 or p.step <= 0:
            return None
        elapsed = now - self.started_at
        return max(0.0, elapsed / p.step * (p.total - p.step))


class JobEvent(NamedTuple):
    """A change in a job, sent to every engine listener."""

    job_id: int
    kind: JobKind
    title: str
    state: JobState
    progress: Progress | None
    eta_seconds: float | None
    result: Any
    error: str | None
    # Events of one job come from the submitting thread and a worker, so they
    # can arrive out of order; a consumer keeps the highest seq it has seen.
    seq: int = 0


def waiting_text(ahead: int) -> str:
    """What a job that has not started says: how many jobs it waits behind."""
    if ahead <= 0:
        return "Starting…"
    return f"Queued behind {ahead} job{'s' if ahead != 1 else ''}"
