"""A journey as the window runs it: one engine job that makes every frame
into a FrameStore, and the job that exports a store.

The job function has the engine's shape, `fn(params, progress, cancel)`. A
cancelled journey returns the frames it made (the engine marks the job
cancelled and keeps the result), so the window keeps them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from artstudio.engine.errors import UserFacingError
from artstudio.interpolation.export import ExportReport, export_frames
from artstudio.interpolation.frame_store import FrameStore
from artstudio.interpolation.frames import Frame
from artstudio.interpolation.journey import JourneyPlan, check_plan
from artstudio.interpolation.travel import JourneyResult


def check_journey(plan: JourneyPlan, even: bool) -> None:
    """One-line refusals before the job starts (journey.check_plan's, and
    even motion's own)."""
    check_plan(plan)
    if even:
        if plan.images is not None:
            raise UserFacingError("Even motion works between two seeds or two prompts, not "
                                  "for a picture morph.")
        if plan.frames < 2:
            raise UserFacingError("Even motion needs at least two frames.")
        # the places even motion will choose, checked as the plan will be
        check_plan(replace(plan, times=tuple(i / (plan.frames - 1) for i in range(plan.frames))))


@dataclass(frozen=True)
class JourneyJob:
    plan: JourneyPlan
    store: FrameStore
    even: bool = False
    # called on the worker after each frame is stored: (its position, the frame)
    on_frame: Callable[[int, Frame], None] | None = None


def run_journey(job: JourneyJob, progress, cancel) -> JourneyResult:
    """Make the journey's frames into `job.store`. Even motion first measures
    the journey (travel.even_times), then makes the frames where it says."""
    from artstudio.interpolation import travel

    plan = job.plan
    if job.even:
        plan = replace(plan, times=travel.even_times(plan, progress, cancel))

    def keep(frame: Frame) -> None:
        position = job.store.add(frame)
        if job.on_frame is not None:
            job.on_frame(position, frame)

    result = travel.run(plan, progress, cancel, keep)
    job.store.cancelled = result.cancelled
    return result


@dataclass(frozen=True)
class ExportJob:
    store: FrameStore
    out: Path
    fps: float = 12.0
    loop: bool = False
    pingpong: bool = False
    overwrite: bool = False


def run_export(job: ExportJob, progress, cancel) -> ExportReport:
    """Write the store's frames with interpolation.export; a cancelled
    journey's export says how many of the planned frames it holds."""
    store = job.store
    total = len(store)

    def frames():
        for frame in store:
            progress(frame.index, total, f"Writing frame {frame.index + 1} of {total}")
            yield frame

    report = export_frames(frames(), job.out, fps=job.fps, loop=job.loop, pingpong=job.pingpong,
                           overwrite=job.overwrite, cancel=cancel)
    if store.cancelled and report.frames:
        note = (f"the journey was cancelled: {report.path.name} holds {report.frames} of "
                f"{store.planned} frames")
        report = replace(report, notes=(*report.notes, note))
    return report
