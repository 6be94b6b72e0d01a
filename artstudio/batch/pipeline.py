"""The overlapped decode -> process -> encode pipeline for a batch.

Decoding runs ahead on a thread pool and encoding trails behind on another,
so the per-image function (a network, usually) always has the next image
ready and never waits on the disk. Both queues are bounded, so memory stays
the same whether the folder holds ten images or a hundred thousand.

A failure is a line in the report, never the end of the batch. Cancelling
lets the image in hand finish and be written, then stops; outputs appear
only whole (written to a temporary name, then renamed).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from artstudio.batch.codecs import RowSource, decode, gathered, is_row_source, write_output
from artstudio.batch.existing import existing_targets
from artstudio.batch.naming import Item, format_of
from artstudio.batch.report import BatchReport, progress_line, write_run_reports
from artstudio.batch.resume import OtherSettings, ResumeCheck, begin_run, check_resume
from artstudio.document.errors import DocumentFileError
from artstudio.document.io_images import DEFAULT_MAX_MEGAPIXELS
from artstudio.document.save import remove_stale_temporaries
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.errors import UserFacingError, describe_error


class Processor(Protocol):
    """Any per-image function: RGBA uint8 in, RGBA uint8 out (or a RowSource,
    whose work then happens while it is written). One that sets
    `calls_at_once = N` (N > 1) is called from N threads at once, on N
    decoded images (a CPU network run as two streams)."""

    def __call__(self, rgba: np.ndarray) -> np.ndarray | RowSource: ...


ProgressFn = Callable[..., None]


@dataclass(frozen=True)
class BatchSettings:
    """How outputs are written and how far the pipeline runs ahead.

    quality: JPEG/WebP quality. png_level: zlib level for PNG, or "fast"
        (fpng, an optional package: far less CPU, files about 9 % larger).
    overwrite: redo outputs that exist (otherwise they count as done).
    text: PNG text chunks written into every PNG output (what made it).
    decode_ahead: images decoded ahead of the processor (memory bound).
    write_behind: encoded images waiting for the disk (memory bound).
    stream_above: a row source (a result made while written) of more pixels
        than this streams to disk on the calling thread; a smaller one is
        gathered and encoded on the encoder threads while the next image
        runs (at most `write_behind` of them, 64 MB each, wait there).
    """

    quality: int = 92
    png_level: int | str = 3
    overwrite: bool = False
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    decode_workers: int = 2
    encode_workers: int = 2
    decode_ahead: int = 3
    write_behind: int = 3
    text: tuple[tuple[str, str], ...] = ()
    stream_above: int = 16_000_000


def _noop(*_a: Any, **_k: Any) -> None:
    return None


def _reason(exc: BaseException) -> str:
    # The report names the file already; a file error's own text repeats it.
    if isinstance(exc, DocumentFileError):
        return exc.reason
    return describe_error(exc)


def run_batch(items: Iterable[Item], process: Processor,
              settings: BatchSettings = BatchSettings(),
              progress: ProgressFn | None = None,
              cancel: CancelToken | None = None,
              skipped: Iterable[tuple[Path, str]] = ()) -> BatchReport:
    """Run `process` over every item and write each result to its target.

    `progress(step, total, message)` gets "n/N img/s ETA" messages, where
    step/total is `report.progress` (outputs already done count as done), the
    one number every view of the batch shows; when it raises Cancelled (the
    engine's way) or `cancel` is set, the batch stops after the image in
    hand, and the final count is still reported once. Returns the report
    (never raises for one file).
    """
    progress = progress or _noop
    cancel = CancelToken() if cancel is None else cancel  # a token is falsy until set
    items = list(items)
    remove_stale_temporaries(item.target for item in items)  # what a killed run left
    report = BatchReport(total=len(items), skipped=list(skipped))
    todo = []
    there = set() if settings.overwrite else existing_targets(item.target for item in items)
    for item in items:
        if str(item.target) in there:
            report.already_done.append(item.target)
        else:
            todo.append(item)
    total = len(todo)
    start = time.monotonic()
    finished = 0
    stop = False
    text = dict(settings.text)

    def tell(message: str = "") -> None:
        nonlocal stop
        step, whole = report.progress
        try:
            progress(step, whole, message or progress_line(
                step, whole, time.monotonic() - start, finished))
        except Cancelled:
            stop = True

    decoder = ThreadPoolExecutor(settings.decode_workers, thread_name_prefix="batch-decode")
    encoder = ThreadPoolExecutor(settings.encode_workers, thread_name_prefix="batch-encode")
    ahead: deque[tuple[Item, Future]] = deque()
    behind: deque[tuple[Item, Future]] = deque()
    queue = iter(todo)

    def read_ahead() -> None:
        while len(ahead) < settings.decode_ahead:
            item = next(queue, None)
            if item is None:
                return
            ahead.append((item, decoder.submit(decode, item.source, settings.max_megapixels)))

    def settle(item: Item, future: Future) -> None:
        nonlocal finished
        try:
            future.result()
            report.record_written(item)
        except Exception as exc:
            report.failed.append((item.source, _reason(exc)))
        finished += 1

    def drain(block_until: int) -> None:
        # Collect finished writes in order; block while more than
        # `block_until` are pending (the write-behind bound).
        while behind and (len(behind) > block_until or behind[0][1].done()):
            settle(*behind.popleft())
            tell()

    def compute(rgba: np.ndarray) -> np.ndarray | RowSource:
        out = process(rgba)
        if is_row_source(out) and out.width * out.height <= settings.stream_above:
            out = gathered(out)  # the work happens here: failures and cancel as below
        return out

    def finish(item: Item, pending: Future, result: Future) -> None:
        """Take one processed image, then queue its write (or report it)."""
        nonlocal stop, finished
        try:
            out = result.result()
            if is_row_source(out):
                # The work happens while the rows are written: do it here, in
                # order, so failures and cancelling behave as for `process`.
                drain(0)
                write_output(out, item.target, format_of(item.target), settings.quality,
                             settings.png_level, text)
                report.record_written(item)
                out = None
        except Cancelled:
            stop = True  # the processor noticed first; this file is not written
            ahead.appendleft((item, pending))
            return
        except Exception as exc:
            report.failed.append((item.source, _reason(exc)))
            out = None
        if out is None:  # done with here: failed, or written already
            finished += 1
            tell()
            return
        behind.append((item, encoder.submit(
            write_output, out, item.target, format_of(item.target),
            settings.quality, settings.png_level, text)))
        del out
        drain(settings.write_behind - 1)

    calls = max(1, int(getattr(process, "calls_at_once", 1)))
    workers = ThreadPoolExecutor(calls, thread_name_prefix="batch-process") if calls > 1 else None
    running: deque[tuple[Item, Future, Future]] = deque()  # in the processor, in order

    def processing(rgba: np.ndarray) -> Future:
        if workers is not None:
            return workers.submit(compute, rgba)
        done: Future = Future()  # one at a time: on this thread, as it always was
        try:
            done.set_result(compute(rgba))
        except Exception as exc:  # handed to `finish` as a worker's would be
            done.set_exception(exc)
        return done

    tell("Starting")
    try:
        read_ahead()
        while ahead and not stop and not cancel.cancelled:
            item, pending = ahead.popleft()
            try:
                rgba = pending.result()
            except Exception as exc:
                report.failed.append((item.source, _reason(exc)))
                finished += 1
                read_ahead()
                tell()
                continue
            read_ahead()
            running.append((item, pending, processing(rgba)))
            del rgba
            while len(running) >= calls:
                finish(*running.popleft())
        while running:  # the images in hand are finished, also when stopping
            finish(*running.popleft())
    finally:
        for _item, _pending, result in running:
            result.cancel()
        if workers is not None:
            workers.shutdown(wait=True, cancel_futures=True)
        report.cancelled = bool(stop or cancel.cancelled) and bool(ahead or next(queue, None))
        for _item, future in ahead:
            future.cancel()
        drain(0)
        decoder.shutdown(wait=True, cancel_futures=True)
        encoder.shutdown(wait=True)
        report.seconds = time.monotonic() - start
        report.not_started = total - finished
    tell()  # the final count, also after a cancel (a view must not keep an older one)
    return report


@dataclass(frozen=True)
class BatchJob:
    """Everything an engine job needs to run a batch: the planned items, a
    factory that builds the per-image function on the worker (so models load
    off the GUI thread), the settings, and where to write the JSON report."""

    items: tuple[Item, ...]
    make_processor: Callable[[CancelToken], Processor]
    settings: BatchSettings = BatchSettings()
    skipped: tuple[tuple[Path, str], ...] = ()
    report_path: Path | None = None


def write_reports(report: BatchReport, path: Path) -> None:
    """This run's report and the summary of all runs; a report that cannot
    be written is noted in the report, whose results are never lost to it."""
    try:
        write_run_reports(report, path)
    except (OSError, UserFacingError) as exc:
        report.report_error = _reason(exc) if isinstance(exc, DocumentFileError) else str(exc)


def run_batch_job(params: BatchJob, progress: ProgressFn, cancel: CancelToken,
                  process: Processor | None = None) -> BatchReport:
    """The engine job form: `engine.submit(run_batch_job, BatchJob(...),
    kind=JobKind.BATCH)`. Returns the report, also when cancelled."""
    if process is None:
        progress(0, len(params.items), "Loading the model")
        process = params.make_processor(cancel)
    report = run_batch(params.items, process, params.settings, progress, cancel, params.skipped)
    if params.report_path is not None:
        write_reports(report, params.report_path)
    return report


@dataclass(frozen=True)
class FolderJob:
    """A batch described by folders rather than items: planned on the worker,
    so walking a large folder never holds up the GUI thread.

    recipe: what makes the outputs (`batch.recipe.recipe_of`); the output
    folder records it and resuming keys on it. other_settings: what to do
    when other settings made outputs there (REFUSE: the job returns the
    ResumeCheck, having done nothing)."""

    input_path: Path
    output_path: Path
    make_processor: Callable[[CancelToken], Processor]
    recursive: bool = False
    fmt: str = "png"
    settings: BatchSettings = BatchSettings()
    report_path: Path | None = None
    recipe: dict[str, Any] | None = None
    other_settings: OtherSettings = OtherSettings.REFUSE
    ray_address: str = ""  # run on this Ray cluster ("auto" or HOST:PORT); "": here
    ray_files: tuple[str, ...] = ()  # files every node must see (ray_runner.model_files)


def run_folder_job(params: FolderJob, progress: ProgressFn,
                   cancel: CancelToken) -> BatchReport | ResumeCheck:
    """Engine job: plan the folder, check it against its record, then run it
    like `run_batch_job`. Returns a ResumeCheck instead of a report when
    other settings made outputs there and `other_settings` is REFUSE."""
    from artstudio.batch.plan import plan_batch

    progress(0, 0, "Looking for images")
    plan = plan_batch(params.input_path, params.output_path, recursive=params.recursive,
                      fmt=params.fmt)
    settings, check = params.settings, None
    if params.recipe is not None and plan.output_root is not None:
        check = check_resume(plan.output_root, plan.items, params.recipe)
        if check.conflict and params.other_settings is OtherSettings.REFUSE:
            progress(0, len(plan.items),
                     f"Nothing done: {len(check.other)} image(s) there were made with other "
                     "settings")
            return check
    if params.ray_address:
        return _run_folder_on_ray(params, plan, check, settings, progress, cancel)
    progress(0, len(plan.items), "Loading the model")
    process = params.make_processor(cancel)
    if check is not None:
        settings = begin_run(check, plan.items, params.other_settings, settings)
    job = BatchJob(plan.items, params.make_processor, settings, plan.skipped,
                   params.report_path)
    return run_batch_job(job, progress, cancel, process)


def _run_folder_on_ray(params: FolderJob, plan, check: ResumeCheck | None,
                       settings: BatchSettings, progress: ProgressFn,
                       cancel: CancelToken) -> BatchReport:
    """run_folder_job's second half on a Ray cluster: joined and checked
    before the folder's record is written."""
    from artstudio.batch.ray_runner import Cluster

    progress(0, len(plan.items), "Joining the Ray cluster")
    cluster = Cluster.join(params.ray_address, plan, params.ray_files)
    try:
        if check is not None:
            settings = begin_run(check, plan.items, params.other_settings, settings)
        report = cluster.run(plan, params.make_processor, settings, progress, cancel)
    finally:
        cluster.leave()
    if params.report_path is not None:
        write_reports(report, params.report_path)
    return report
