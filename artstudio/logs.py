"""The log file: details of every failure go here, short messages go to the UI."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from artstudio import paths

LOG_NAME = "artstudio.log"


def setup_logging(
    level: int = logging.INFO, to_stderr: bool = False
) -> tuple[Path | None, str | None]:
    """Log to a rotating file in the platform's log folder. Returns the file
    (None when unwritable) and a note to show when falling back to stderr."""
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    for handler in list(root.handlers):
        if getattr(handler, "_artstudio", False):
            root.removeHandler(handler)
            handler.close()
    note = None
    log_file: Path | None = paths.log_dir() / LOG_NAME
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        note = f"the log folder {log_file.parent} is not writable ({exc.strerror or exc}); " \
               "logging to the terminal instead"
        log_file = None
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(fmt)
    handler._artstudio = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if to_stderr and log_file is not None:
        err = logging.StreamHandler(sys.stderr)
        err.setLevel(logging.WARNING)
        err.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        err._artstudio = True  # type: ignore[attr-defined]
        root.addHandler(err)
    return log_file, note
