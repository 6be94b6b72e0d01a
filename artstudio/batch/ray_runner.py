"""A folder batch on a Ray cluster, through Ray Data.

The planned items become a dataset; `map_batches` hands them, a few at a
time, to a pool of actors (`compute=ActorPoolStrategy`), each of which builds
the per-image function once and runs the local batch (`run_batch`) on what it
is given: the same decoding, names, atomic writes, skipping of existing
outputs and failure reasons as a batch on one machine. Every node must see
the input and output folders at the same paths (a shared file system); the
driver checks that, and the model files, before any work starts.

Ray is imported only here, and only when a batch is sent to a cluster.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artstudio.batch.existing import existing_targets
from artstudio.batch.naming import Item
from artstudio.batch.recipe import FILE_FIELDS
from artstudio.batch.report import BatchReport, progress_line
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.engine.printable import printable

AUTO = "auto"
PROBE_PREFIX = ".artstudio-probe-"
ITEMS_PER_TASK = 4  # small: a killed actor redoes little, progress moves often
CONNECT_TIMEOUT_S = 5.0


class RayUnavailable(UserFacingError):
    """The cluster cannot be reached or cannot do this batch; nothing was done."""


@dataclass(frozen=True)
class ClusterShape:
    """How the actor pool is sized from what the cluster offers."""

    actors: int
    cpus_per_actor: float
    gpus_per_actor: float


def import_ray():
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailable(
            "--ray needs Ray: install Artstudio with the cluster extra "
            "(pip install 'artstudio[cluster]').") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    text = address.removeprefix("ray://")
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def connect(address: str) -> bool:
    """Join the cluster at `address` ("auto": the one this machine belongs
    to, or RAY_ADDRESS). Returns whether this call connected (so the caller
    disconnects at the end); a process already connected is used as it is.
    RayUnavailable, in one line, when nothing answers there."""
    ray = import_ray()
    if address != AUTO:
        where = _host_port(address)
        if where is None:
            raise RayUnavailable(f"--ray {address!r}: give auto or HOST:PORT "
                                 "(the head node's address, port 6379 by default).")
        # Ray itself retries an unreachable address for a minute or more.
        try:
            socket.create_connection(where, timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise RayUnavailable(
                f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
                "'ray start --head' or check the address.") from None
    if ray.is_initialized():  # joined already (a test, a notebook): use it
        return False
    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayUnavailable(f"could not join the Ray cluster at {address}: {first}") from None
    return True


def cluster_shape(resources: dict[str, float]) -> ClusterShape:
    """One actor per GPU when the cluster has GPUs; otherwise one per CPU
    but one, each asking a whole CPU, or half of one on a cluster of two or
    fewer: an actor pool that takes every CPU leaves none for the tasks that
    feed it, and Ray Data then waits forever."""
    gpus, cpus = int(resources.get("GPU", 0)), float(resources.get("CPU", 1))
    if gpus:
        return ClusterShape(gpus, 1.0, 1.0)
    if cpus <= 2:
        return ClusterShape(2 if cpus >= 2 else 1, 0.5 if cpus >= 2 else 0.25, 0.0)
    return ClusterShape(int(cpus) - 1, 1.0, 0.0)


def _probe(folder: str, files: list[str], first_input: str | None) -> dict[str, Any]:
    """On one node: write a probe file into the output folder and say which
    of `files` (models) and the first input this node cannot see."""
    from artstudio.engine.file_kinds import not_regular_reason

    result: dict[str, Any] = {"host": socket.gethostname(), "probe": None, "error": None,
                              "missing": []}
    try:
        os.makedirs(folder, exist_ok=True)
        name = os.path.join(folder, f"{PROBE_PREFIX}{uuid.uuid4().hex}")
        with open(name, "wb") as fh:
            fh.write(b"probe")
        result["probe"] = os.path.basename(name)  # looked for in the driver's folder
    except OSError as exc:
        result["error"] = exc.strerror or str(exc)
    for path in files + ([first_input] if first_input else []):
        reason = not_regular_reason(path)
        if reason is not None and not (os.path.isdir(path) and path in files):
            result["missing"].append((path, reason))
    return result


def check_cluster(output_root: Path, model_files: Iterable[str],
                  first_input: Path | None) -> list[str]:
    """Before any work: every live node writes a probe file into the output
    folder, which this machine must then see (a folder that is not shared
    would scatter the outputs over the nodes' own disks), and says whether
    it sees the model files and the inputs. Returns the nodes' host names;
    RayUnavailable names the first problem."""
    ray = import_ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0)(_probe)
    files = [os.path.abspath(f) for f in model_files]
    output_root = Path(os.path.abspath(output_root))
    first_input = Path(os.path.abspath(first_input)) if first_input else None
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
        n["NodeID"], soft=False)).remote(str(output_root), files,
                                          str(first_input) if first_input else None)
        for n in nodes]
    hosts = []
    for answer in ray.get(refs, timeout=120):
        host = answer["host"]
        hosts.append(host)
        if answer["error"]:
            raise RayUnavailable(f"node {host} cannot write to {printable(output_root)} "
                                 f"({answer['error']}); the output folder must be shared.")
        probe_file = output_root / answer["probe"]
        seen = probe_file.exists()
        probe_file.unlink(missing_ok=True)
        if not seen:
            raise RayUnavailable(
                f"the output folder {printable(output_root)} is not shared with node {host}: "
                "a file it wrote there is not here. Use a folder every node mounts at the "
                "same path.")
        for path, reason in answer["missing"]:
            what = "the input" if first_input and path == str(first_input) else "the model"
            raise RayUnavailable(f"node {host} cannot use {what} {printable(path)} ({reason}); "
                                 "put it on storage every node mounts at the same path.")
    return hosts


def model_files(options) -> list[str]:
    """The files the options name (models, paintings), which every node of a
    cluster must be able to read."""
    found: list[str] = []
    for name in (f for fields in FILE_FIELDS.values() for f in fields):
        value = getattr(options, name, None)
        for v in value if isinstance(value, tuple | list) else [value]:
            # A path, not a name ("builtin"): it must be there on every node.
            if v and (Path(str(v)).suffix or os.sep in str(v)):
                found.append(str(v))
    return found


class BatchActor:
    """One worker of the pool: builds the per-image function once, then runs
    the local batch on each handful of items it is given and says, per item,
    what became of it."""

    def __init__(self, make_processor: Callable, settings, stop_file: str) -> None:
        self.cancel = CancelToken()
        process = make_processor(self.cancel)
        # The pool's actors are the parallelism here, each on the CPUs Ray
        # reserved for it: one image at a time, whatever `calls_at_once` says.
        self.process = lambda rgba: process(rgba)
        self.settings = settings
        self.stop_file = stop_file

    def _check_stop(self, *_args: Any, **_kwargs: Any) -> None:
        if os.path.exists(self.stop_file):
            self.cancel.cancel()

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        from artstudio.batch.pipeline import run_batch

        items = [Item(Path(s), Path(t)) for s, t in zip(batch["source"], batch["target"],
                                                         strict=True)]
        self._check_stop()
        if self.cancel.cancelled:  # the driver stopped the job: start nothing
            report = BatchReport(total=len(items))
        else:
            # The shared folder carries the driver's stop to every actor,
            # seen after each image like Ctrl-C in a local batch.
            report = run_batch(items, self.process, self.settings, self._check_stop,
                               self.cancel)
        outcome = {str(p): ("written", "") for p in report.written}
        # Done already: an attempt of this task on an actor that was killed
        # wrote it (the driver sent only outputs that did not exist).
        outcome.update({str(p): ("written", "") for p in report.already_done})
        by_source = {str(s): r for s, r in report.failed}
        rows: dict[str, list] = {"index": [], "outcome": [], "reason": []}
        for index, item in zip(batch["index"], items, strict=True):
            if str(item.source) in by_source:
                state, reason = "failed", by_source[str(item.source)]
            else:
                state, reason = outcome.get(str(item.target), ("not started", ""))
            rows["index"].append(int(index))
            rows["outcome"].append(state)
            rows["reason"].append(reason)
        return rows


def run_on_ray(items: Iterable[Item], make_processor: Callable, settings,
               progress: Callable[..., None] | None = None,
               cancel: CancelToken | None = None,
               skipped: Iterable[tuple[Path, str]] = ()) -> BatchReport:
    """`run_batch` on the connected cluster: the same report (outputs that
    exist count as done, failures in plan order, cancelled with the count
    not started). On cancel the job stops at once: the images in progress are
    dropped and their temporary files removed, so only whole outputs remain."""
    from artstudio.document.save import remove_stale_temporaries

    ray = import_ray()
    progress = progress or (lambda *_a, **_k: None)
    cancel = CancelToken() if cancel is None else cancel
    items = list(items)
    remove_stale_temporaries(item.target for item in items)
    report = BatchReport(total=len(items), skipped=list(skipped))
    there = set() if settings.overwrite else existing_targets(it.target for it in items)
    todo = []
    for index, item in enumerate(items):
        if str(item.target) in there:
            report.already_done.append(item.target)
        else:
            todo.append(index)
    start = time.monotonic()

    def tell(message: str) -> None:
        try:
            progress(*report.progress, message)
        except Cancelled:  # the engine's way of asking to stop
            cancel.cancel()

    failed: list[tuple[int, str]] = []
    reported: set[int] = set()
    settled = 0
    tell("Starting on the cluster")
    if todo:
        shape = cluster_shape(ray.cluster_resources())
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        # Absolute: a worker's current folder is not this one.
        rows = [{"index": i, "source": os.path.abspath(items[i].source),
                 "target": os.path.abspath(items[i].target)} for i in todo]
        blocks = min(max(1, len(rows) // ITEMS_PER_TASK), 1000)  # every actor gets some
        stop_file = os.path.join(os.path.dirname(rows[0]["target"]),
                                 f"{PROBE_PREFIX}stop-{uuid.uuid4().hex}")
        ds = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            BatchActor, batch_size=ITEMS_PER_TASK,
            fn_constructor_args=(make_processor, settings, stop_file),
            compute=ray.data.ActorPoolStrategy(size=min(shape.actors, len(todo))),
            num_cpus=shape.cpus_per_actor, num_gpus=shape.gpus_per_actor or None)
        stream = ds.iter_rows()
        done = threading.Event()
        # A cancel reaches the actors at once, not at the next finished image.
        watcher = threading.Thread(target=_pass_stop, args=(cancel, done, stop_file),
                                   daemon=True, name="ray-batch-stop")
        watcher.start()
        try:
            for row in _rows(stream):
                index, state = int(row["index"]), row["outcome"]
                if state == "written":
                    report.record_written(items[index])
                elif state == "failed":
                    failed.append((index, row["reason"]))
                else:  # "not started": the actor saw the stop
                    continue
                reported.add(index)
                settled += 1
                step, whole = report.progress
                tell(progress_line(step, whole, time.monotonic() - start, settled))
                if cancel.cancelled:
                    break
        finally:
            done.set()
            watcher.join()
            stopped = settled < len(todo)
            if stopped:
                Path(stop_file).touch()
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            del stream, ds
            unsettled = _finish(items, todo, reported, stopped, stop_file)
            for index in unsettled:  # whole on disk, written as the job stopped
                report.record_written(items[index])
                settled += 1
            report.cancelled = settled < len(todo)
    failed.sort()
    report.failed = [(items[i].source, reason) for i, reason in failed]
    report.not_started = len(todo) - settled
    report.seconds = time.monotonic() - start
    step, whole = report.progress
    tell(progress_line(step, whole, report.seconds, settled))
    return report


def _pass_stop(cancel: CancelToken, done: threading.Event, stop_file: str) -> None:
    while not done.wait(0.2):
        if cancel.cancelled:
            Path(stop_file).touch()
            return


def _finish(items: list[Item], todo: list[int], reported: set[int], stopped: bool,
            stop_file: str) -> list[int]:
    """Once the stream has ended: remove the temporary files of writes that
    were cut off (a killed actor's, or those the stop ended; no write of this
    job is live any more, and a live one elsewhere holds its file locked),
    and return the unreported items whose outputs exist whole."""
    from artstudio.document.save import remove_stale_temporaries

    if stopped:
        time.sleep(0.5)  # the actors are ended asynchronously
    targets = [items[i].target for i in todo]
    remove_stale_temporaries(targets, min_age_s=0)
    Path(stop_file).unlink(missing_ok=True)
    if not stopped:
        return []
    left = [i for i in todo if i not in reported]
    there = existing_targets(items[i].target for i in left)
    return [i for i in left if str(items[i].target) in there]


def _rows(stream):
    """The stream's rows; a failure of the cluster before any image (the
    model would not load on a worker) as RayUnavailable with its reason."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Ray Data's advice on pool sizes
        try:
            yield from stream
        except UserFacingError:
            raise
        except Exception as exc:
            raise RayUnavailable(f"the batch failed on the cluster: {_cause(exc)}") from None


def _cause(exc: BaseException) -> str:
    """The first line of what a worker raised, under Ray's wrappers."""
    seen = 0
    while seen < 10:
        inner = getattr(exc, "cause", None) or exc.__cause__
        if inner is None or inner is exc:
            break
        exc, seen = inner, seen + 1
    if isinstance(exc, UserFacingError):
        return str(exc)
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


@dataclass
class Cluster:
    """A batch's use of a Ray cluster: joined and checked before any work
    (`join`), then `run`, then `leave`."""

    hosts: list[str]
    connected: bool  # this process joined (and so leaves at the end)

    CANCEL_NOTE = ("cancelling: the images in progress on the cluster are dropped "
                   "(nothing partial is written)")

    @classmethod
    def join(cls, address: str, plan, model_files: Iterable[str]) -> Cluster:
        connected = connect(address)
        try:
            first = plan.items[0] if plan.items else None
            root = plan.output_root or (first.target.parent if first else None)
            hosts = check_cluster(root, model_files, first.source if first else None) \
                if root is not None else []
        except BaseException:
            if connected:
                import_ray().shutdown()
            raise
        return cls(hosts, connected)

    def describe(self) -> str:
        return f"{len(self.hosts)} node(s)"

    def run(self, plan, make_processor: Callable, settings, progress, cancel) -> BatchReport:
        return run_on_ray(plan.items, make_processor, settings, progress, cancel, plan.skipped)

    def leave(self) -> None:
        if self.connected:
            self.connected = False
            import_ray().shutdown()
