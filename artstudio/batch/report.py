"""The outcome of a batch: counts, every failure with its reason, a summary
for people and a JSON report for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from artstudio.engine.printable import printable


@dataclass
class BatchReport:
    """What a batch did. `failed` and `skipped` hold (path, reason) pairs."""

    total: int = 0
    written: list[Path] = field(default_factory=list)
    already_done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    not_started: int = 0
    cancelled: bool = False
    seconds: float = 0.0
    written_sources: list[Path] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    report_error: str = ""  # why the report file could not be written, if it could not

    def record_written(self, item) -> None:
        """An output was written whole (`item`: the batch Item)."""
        self.written.append(item.target)
        self.written_sources.append(item.source)

    @property
    def progress(self) -> tuple[int, int]:
        """(outputs settled, all planned): written, failed or already done,
        out of every item. The one progress value of a batch."""
        return len(self.written) + len(self.failed) + len(self.already_done), self.total

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled

    @property
    def exit_code(self) -> int:
        """0 when everything was done, 1 when a file failed, 130 when cancelled."""
        if self.failed:
            return 1
        return 130 if self.cancelled else 0

    @property
    def images_per_second(self) -> float:
        return len(self.written) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """A few lines for the terminal or the dialog."""
        parts = [f"{len(self.written)} written"]
        if self.already_done:
            parts.append(f"{len(self.already_done)} already done")
        parts.append(f"{len(self.failed)} failed")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped (hidden or not images)")
        if self.cancelled:
            parts.append(f"cancelled with {self.not_started} not started")
        line = ", ".join(parts)
        line += f" in {self.seconds:.1f} s"
        if self.written:
            line += f" ({self.images_per_second:.2f} images/s)"
        lines = [line]
        if self.report_error:
            lines.append(f"  the report could not be written: {self.report_error}")
        # Escaped: a newline in a file name must not print a line of its own.
        lines += [f"  failed: {printable(p)}: {printable(reason)}"
                  for p, reason in self.failed]
        return "\n".join(lines)

    def to_dict(self, recovered: Iterable[str] = ()) -> dict:
        """The counts first, then what went wrong, file by file; successes
        only as a count (a studio batch writes 100,000 of them). `recovered`:
        files an earlier run failed on that this one wrote."""
        return {
            "started": self.started,
            "total": self.total,
            "written": len(self.written),
            "already_done": len(self.already_done),
            "failed_count": len(self.failed),
            "skipped_count": len(self.skipped),
            "not_started": self.not_started,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 3),
            "images_per_second": round(self.images_per_second, 3),
            "failed": [{"file": printable(p), "reason": printable(r)}
                       for p, r in self.failed],
            "skipped": [{"file": printable(p), "reason": printable(r)}
                        for p, r in self.skipped],
            "recovered": sorted(recovered),
        }

    def write_json(self, path: Path) -> None:
        """Write this run's report alone, atomically (a crash leaves the old
        one whole)."""
        _write_json(Path(path), self.to_dict())


def _write_json(path: Path, data: dict) -> None:
    from artstudio.document.save import atomic_write

    # Names are escaped already; `replace` only guards against a surrogate
    # from elsewhere (a reason quoting a name): the report is never lost to one.
    blob = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8", "backslashreplace")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda fh: fh.write(blob))


def run_report_path(path: Path, started: str) -> Path:
    """Where one run's report is kept: report.json -> report-2026-12-01T133012.json
    (then -2, -3... for two runs in the same second)."""
    stamp = started.replace(":", "")
    candidate = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{stamp}-{n}{path.suffix}")
        n += 1
    return candidate


def _previous_runs(path: Path) -> dict:
    """The summary so far. A report from before summaries (one run's) is kept
    under its own dated name and becomes the first run."""
    empty = {"runs": [], "failed": [], "skipped": [], "written": 0}
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return empty
    except (OSError, ValueError):
        path.replace(path.with_name(f"{path.stem}-unreadable{path.suffix}"))
        return empty
    if isinstance(data, dict) and isinstance(data.get("runs"), list):
        return data
    if not isinstance(data, dict):
        return empty
    started = data.get("started") or datetime.fromtimestamp(
        path.stat().st_mtime).isoformat(timespec="seconds")
    kept = run_report_path(path, started)
    _write_json(kept, data)
    return _add_run(empty, data, kept.name)


def _add_run(summary: dict, run: dict, name: str) -> dict:
    # A failure stays listed until a later run writes that file (or fails on
    # it again, with the newer reason).
    # ("written_files": every success, as reports before "recovered" had it.)
    fixed = set(run.get("recovered", run.get("written_files", ()))) | \
        {f["file"] for f in run.get("failed", ())}
    failed = [f for f in summary["failed"] if f["file"] not in fixed]
    failed += [{**f, "run": name} for f in run.get("failed", ())]
    entry = {"report": name, "started": run.get("started"),
             **{k: run.get(k) for k in ("total", "written", "already_done", "not_started",
                                        "cancelled", "seconds")},
             "failed": len(run.get("failed", ())), "skipped": len(run.get("skipped", ()))}
    # What the input folder holds that is not an image is the newest run's
    # finding: a file skipped before may have been fixed or removed since.
    # Counts first: the file opens on what a person wants to know.
    return {"written": summary.get("written", 0) + int(run.get("written") or 0),
            "failed_count": len(failed), "runs": [*summary["runs"], entry], "failed": failed,
            "skipped": list(run.get("skipped", ()))}


def write_run_reports(report: BatchReport, path: Path) -> Path:
    """Keep this run's report under a dated name beside `path`, and rewrite
    `path` as the summary of every run so far: each run's counts and the
    files that still failed (a resumed batch keeps the first run's failures).
    Returns this run's report path."""
    path = Path(path)
    previous = _previous_runs(path)
    still_open = {f["file"] for f in previous["failed"]}
    recovered = (name for name in map(printable, report.written_sources) if name in still_open)
    run = report.to_dict(recovered if still_open else ())
    kept = run_report_path(path, report.started)
    _write_json(kept, run)
    _write_json(path, _add_run(previous, run, kept.name))
    return kept


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    whole = round(seconds)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_line(done: int, total: int, elapsed: float, made: int | None = None) -> str:
    """"12/200  3.4 img/s  ETA 0:55" from the count done and the time spent;
    `made`: how many of `done` this run made (the rest were done before), for
    the rate."""
    made = done if made is None else made
    rate = made / elapsed if elapsed > 0 and made else 0.0
    eta = (total - done) / rate if rate > 0 else None
    return f"{done}/{total}  {rate:.2f} img/s  ETA {format_eta(eta)}"
