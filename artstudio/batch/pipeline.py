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

from artstudio.batch.codecs import RowSource, decode, is_row_source, write_output
from artstudio.batch.naming import Item, format_of
from artstudio.batch.report import BatchReport, progress_line
from artstudio.document.errors import DocumentFileError
from artstudio.document.io_images import DEFAULT_MAX_MEGAPIXELS
from artstudio.document.save import remove_stale_temporaries
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.errors import describe_error


class Processor(Protocol):
    """Any per-image function: RGBA uint8 in, RGBA uint8 out (or a RowSource,
    whose work then happens while it is written)."""

    def __call__(self, rgba: np.ndarray) -> np.ndarray | RowSource: ...


ProgressFn = Callable[..., None]


@dataclass(frozen=True)
class BatchSettings:
    """How outputs are written and how far the pipeline runs ahead.

    quality: JPEG/WebP quality. png_level: zlib level for PNG.
    overwrite: redo outputs that exist (otherwise they count as done).
    decode_ahead: images decoded ahead of the processor (memory bound).
    write_behind: encoded images waiting for the disk (memory bound).
    """

    quality: int = 92
    png_level: int = 3
    overwrite: bool = False
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    decode_workers: int = 2
    encode_workers: int = 2
    decode_ahead: int = 3
    write_behind: int = 3


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

    `progress(step, total, message)` gets "n/N img/s ETA" messages; when it
    raises Cancelled (the engine's way) or `cancel` is set, the batch stops
    after the image in hand. Returns the report (never raises for one file).
    """
    progress = progress or _noop
    cancel = CancelToken() if cancel is None else cancel  # a token is falsy until set
    items = list(items)
    remove_stale_temporaries(item.target for item in items)  # what a killed run left
    report = BatchReport(total=len(items), skipped=list(skipped))
    todo = []
    for item in items:
        if not settings.overwrite and item.target.exists():
            report.already_done.append(item.target)
        else:
            todo.append(item)
    total = len(todo)
    start = time.monotonic()
    finished = 0
    stop = False

    def tell(message: str = "") -> None:
        nonlocal stop
        try:
            progress(finished, total, message or progress_line(
                finished, total, time.monotonic() - start))
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
            report.written.append(item.target)
        except Exception as exc:
            report.failed.append((item.source, _reason(exc)))
        finished += 1

    def drain(block_until: int) -> None:
        # Collect finished writes in order; block while more than
        # `block_until` are pending (the write-behind bound).
        while behind and (len(behind) > block_until or behind[0][1].done()):
            settle(*behind.popleft())
            tell()

    def finish(item: Item, pending: Future, rgba: np.ndarray) -> None:
        """Process one decoded image, then queue its write (or report it)."""
        nonlocal stop, finished
        try:
            out = process(rgba)
            if is_row_source(out):
                # The work happens while the rows are written: do it here, in
                # order, so failures and cancelling behave as for `process`.
                drain(0)
                write_output(out, item.target, format_of(item.target), settings.quality,
                             settings.png_level)
                report.written.append(item.target)
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
            settings.quality, settings.png_level)))
        del out
        drain(settings.write_behind - 1)

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
            finish(item, pending, rgba)
            del rgba
    finally:
        report.cancelled = bool(stop or cancel.cancelled) and bool(ahead or next(queue, None))
        for _item, future in ahead:
            future.cancel()
        drain(0)
        decoder.shutdown(wait=True, cancel_futures=True)
        encoder.shutdown(wait=True)
        report.seconds = time.monotonic() - start
        report.not_started = total - finished
    if not report.cancelled:
        tell()
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


def run_batch_job(params: BatchJob, progress: ProgressFn, cancel: CancelToken) -> BatchReport:
    """The engine job form: `engine.submit(run_batch_job, BatchJob(...),
    kind=JobKind.BATCH)`. Returns the report, also when cancelled."""
    progress(0, len(params.items), "Loading the model")
    process = params.make_processor(cancel)
    report = run_batch(params.items, process, params.settings, progress, cancel, params.skipped)
    if params.report_path is not None:
        report.write_json(params.report_path)
    return report


@dataclass(frozen=True)
class FolderJob:
    """A batch described by folders rather than items: planned on the worker,
    so walking a large folder never holds up the GUI thread."""

    input_path: Path
    output_path: Path
    make_processor: Callable[[CancelToken], Processor]
    recursive: bool = False
    fmt: str = "png"
    settings: BatchSettings = BatchSettings()
    report_path: Path | None = None


def run_folder_job(params: FolderJob, progress: ProgressFn, cancel: CancelToken) -> BatchReport:
    """Engine job: plan the folder, then run it like `run_batch_job`."""
    from artstudio.batch.plan import plan_batch

    progress(0, 0, "Looking for images")
    plan = plan_batch(params.input_path, params.output_path, recursive=params.recursive,
                      fmt=params.fmt)
    job = BatchJob(plan.items, params.make_processor, params.settings, plan.skipped,
                   params.report_path)
    return run_batch_job(job, progress, cancel)
