"""The outcome of a batch: counts, every failure with its reason, a summary
for people and a JSON report for scripts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
        # Escaped: a newline in a file name must not print a line of its own.
        lines += [f"  failed: {printable(p)}: {printable(reason)}" for p, reason in self.failed]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "written": len(self.written),
            "already_done": len(self.already_done),
            "failed": [{"file": str(p), "reason": r} for p, r in self.failed],
            "skipped": [{"file": str(p), "reason": r} for p, r in self.skipped],
            "not_started": self.not_started,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 3),
            "images_per_second": round(self.images_per_second, 3),
        }

    def write_json(self, path: Path) -> None:
        """Write the report atomically (a crash leaves the old one whole)."""
        from artstudio.document.save import atomic_write

        data = json.dumps(self.to_dict(), indent=2, ensure_ascii=False).encode("utf-8")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: fh.write(data))


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    whole = round(seconds)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def progress_line(done: int, total: int, elapsed: float) -> str:
    """"12/200  3.4 img/s  ETA 0:55" from the count done and the time spent."""
    rate = done / elapsed if elapsed > 0 and done else 0.0
    eta = (total - done) / rate if rate > 0 else None
    return f"{done}/{total}  {rate:.2f} img/s  ETA {format_eta(eta)}"
