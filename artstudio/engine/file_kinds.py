"""What a path names, found without opening it: a regular file, or
something a reader must not open (a folder, a named pipe, a device, a
broken or looping link, nothing).

Opening a named pipe blocks until something writes to it (forever, and
Ctrl-C cannot end it from a worker thread); a device can block too, or never
end. So every reader of images, documents and models asks here first.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

FOLDER = "this is a folder, not a file"
DOES_NOT_EXIST = "the file does not exist"
LINK_LOOP = "a symbolic link loop (the link leads back to itself)"
BROKEN_LINK = "a broken symbolic link (what it points to does not exist)"


def kind_of_mode(mode: int) -> str | None:
    """None for a regular file's st_mode, else what it is, in words."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "not a regular file (a named pipe)"
    if stat.S_ISSOCK(mode):
        return "not a regular file (a socket)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file (a device)"
    if stat.S_ISDIR(mode):
        return FOLDER
    return "not a regular file"


def stat_failure(path: Path | str, exc: OSError) -> str:
    """In words, why stat or open of `path` failed."""
    if exc.errno == errno.ELOOP:
        return LINK_LOOP
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return BROKEN_LINK if os.path.islink(path) else DOES_NOT_EXIST
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission to read the file was denied"
    return f"the file could not be read ({exc.strerror or exc})"


def not_regular_reason(path: Path | str) -> str | None:
    """None when `path` is (or links to) a regular file; otherwise what it
    is instead, in words. Nothing is opened."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return stat_failure(path, exc)
    except ValueError:  # a NUL in the name
        return DOES_NOT_EXIST
    return kind_of_mode(mode)
