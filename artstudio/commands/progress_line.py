"""A one-line progress display on stderr for commands (n/N, rate, ETA)."""

from __future__ import annotations

import sys
import time


class ProgressLine:
    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.interactive = getattr(self.stream, "isatty", lambda: False)()
        self._last_len = 0

    def __call__(self, step: int, total: int, message: str = "", preview=None) -> None:
        elapsed = time.monotonic() - self.start
        eta = ""
        if total > 0 and step > 0:
            remaining = elapsed / step * (total - step)
            eta = f", {remaining:.0f} s left"
        text = f"{self.label}: {step}/{total}{eta}" + (f" {message}" if message else "")
        if self.interactive:
            pad = " " * max(0, self._last_len - len(text))
            self.stream.write(f"\r{text}{pad}")
            self._last_len = len(text)
        elif step in (0, total):
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.interactive and self._last_len:
            self.stream.write("\n")
            self.stream.flush()
