"""Which running Artstudio owns which autosave.

Two windows of the app (two processes) share one autosave folder. Each
document's autosave is its own (`<autosave_id>.*`, a random id), but a second
window starting up must not offer, recover or delete an autosave that a live
window is still writing, and two windows recovering the same crashed document
must not both go on writing it.

So a process that writes an autosave, or recovers one, owns it: it holds an
exclusive lock on `<autosave_id>.owner` for as long as the document is open.
The system drops the lock when the process ends, crash included, which is
exactly when the autosave becomes worth recovering. An owner file that no
process locks means nothing; `remove_unowned` tidies those.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

OWNER_SUFFIX = ".owner"

_held: dict[Path, int] = {}  # owner file -> the open descriptor holding its lock
_guard = threading.Lock()


class OwnedElsewhere(Exception):
    """Another running Artstudio holds this autosave."""


def owner_file(folder: Path, autosave_id: str) -> Path:
    return Path(folder) / f"{autosave_id}{OWNER_SUFFIX}"


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def claim(folder: Path, autosave_id: str) -> None:
    """Own the autosave `autosave_id` from now until `release` or the end of
    this process. Owning it already is fine. Raises OwnedElsewhere when
    another process owns it, OSError when the owner file cannot be made."""
    path = owner_file(folder, autosave_id)
    with _guard:
        if path in _held:
            return
        while True:
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            if not _try_lock(fd):
                os.close(fd)
                raise OwnedElsewhere(autosave_id)
            if _still_named(fd, path):
                break
            os.close(fd)  # tidied away between open and lock: take the new file
        _held[path] = fd


def _still_named(fd: int, path: Path) -> bool:
    """Is the locked file still the one at `path`? `remove_unowned` in another
    window may unlink it between our open and our lock."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def release(folder: Path, autosave_id: str) -> None:
    """Stop owning the autosave (its document was closed) and remove the
    owner file. Not owning it is fine."""
    path = owner_file(folder, autosave_id)
    with _guard:
        fd = _held.pop(path, None)
        if fd is None:
            return
        with contextlib.suppress(OSError):
            path.unlink()  # while still locked, so nobody can take the old file meanwhile
        os.close(fd)


def owned_here(folder: Path, autosave_id: str) -> bool:
    return owner_file(folder, autosave_id) in _held


def owned_by_a_live_process(folder: Path, autosave_id: str) -> bool:
    """Is this autosave being written by a running Artstudio (this one or
    another)?"""
    path = owner_file(folder, autosave_id)
    if path in _held:
        return True
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False  # no owner file: written by a version before owners, or by a crash
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)  # also drops the lock just taken


def remove_unowned(folder: Path, keep: set[str]) -> list[Path]:
    """Owner files that no process locks and whose autosave id is not in
    `keep` (the autosaves still on disk): what a closed or crashed window
    left. Returns what was removed; errors are ignored."""
    removed = []
    for path in Path(folder).glob(f"*{OWNER_SUFFIX}"):
        autosave_id = path.name[:-len(OWNER_SUFFIX)]
        if autosave_id in keep or owned_by_a_live_process(folder, autosave_id):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed
