"""What every command shows in the terminal: a progress line on stderr, and
Ctrl-C that finishes the image in hand before stopping."""

from __future__ import annotations

import signal
import sys
import time


class TerminalProgress:
    """A one-line bar on stderr when it is a terminal; otherwise a plain line
    every few seconds (logs stay readable)."""

    def __init__(self, stream=None, width: int = 28):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = 0.0
        self.drawn = False
        self.shown_final = False

    def __call__(self, step: int, total: int, message: str = "", preview=None) -> None:
        now = time.monotonic()
        final = total > 0 and step >= total
        if final and self.shown_final:
            return
        if not final and now - self.last < (0.1 if self.tty else 5.0):
            return
        self.shown_final = final
        self.last = now
        filled = int(self.width * step / total) if total else 0
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {message}"
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(80))
            self.drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


FINISH_CURRENT = "cancelling after the current image"


def cancel_on_ctrl_c(cancel, note: str = FINISH_CURRENT):
    """First Ctrl-C: cancel (say what happens with `note`). Second: stop now."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)

    def handler(_sig, _frame):
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        print(f"\n{note} (Ctrl-C again to stop now)", file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    return lambda: signal.signal(signal.SIGINT, previous)
