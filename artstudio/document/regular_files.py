"""Opening only regular files: a named pipe, a device or a folder named like
an image is refused with what it is, before it is opened (see
engine.file_kinds for why)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from artstudio.document.errors import DocumentFileError
from artstudio.engine.file_kinds import kind_of_mode, not_regular_reason, stat_failure

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))


def open_regular(path: Path | str) -> BinaryIO:
    """Open a regular file for reading; DocumentFileError naming it for
    anything else. The name is checked before it is opened and the opened
    file again: a pipe put in its place in between does not block either,
    the open does not wait for a writer."""
    path = Path(path)
    reason = not_regular_reason(path)
    if reason is not None:
        raise DocumentFileError(path, reason)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise DocumentFileError(path, stat_failure(path, exc)) from exc
    try:
        reason = kind_of_mode(os.fstat(fd).st_mode)
        if reason is not None:
            raise DocumentFileError(path, reason)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
