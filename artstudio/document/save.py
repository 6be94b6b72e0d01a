"""Opening, saving and exporting documents, atomically.

Saving writes a temporary file beside the target, flushes it to disk and
renames it over the old file: a full disk, a read-only folder or a crash
leaves the previous file exactly as it was.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from artstudio.document.compose import compose
from artstudio.document.document import Document
from artstudio.document.errors import DocumentFileError
from artstudio.document.io_images import (
    DEFAULT_MAX_MEGAPIXELS,
    IMAGE_SUFFIXES,
    document_from_image,
)
from artstudio.document.ora import read_ora, write_ora

EXPORT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
"""Flattened export formats, by file extension."""
OPEN_SUFFIXES = (".ora", *IMAGE_SUFFIXES)
SAVE_SUFFIXES = (".ora", *EXPORT_FORMATS)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is not writable"
    return exc.strerror or str(exc)


try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted there anyway
    fcntl = None

_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp")
"""The temporary files `atomic_write` makes: `.NAME.XXXXXXXX.tmp` beside
NAME, XXXXXXXX being the eight characters `tempfile.mkstemp` picks."""
STALE_TEMP_AGE_S = 60.0
"""A temporary file untouched this long and not locked is left over from a
write that was killed (a write in progress holds a lock on it)."""


def atomic_write(path: Path | str, write: Callable[[BinaryIO], None]) -> None:
    """Call `write(stream)` into a temporary file beside `path`, fsync it and
    rename it over `path`. On any failure the temporary file is removed, the
    old file is untouched, and a DocumentFileError names the file."""
    path = Path(path)
    try:
        mode, existed = path.stat().st_mode & 0o7777, True
    except OSError:
        mode, existed = 0o644, False
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DocumentFileError(path, f"could not be saved: {_reason(exc)}") from exc
    if fcntl is not None:
        # Held until the file is closed, released by the system if the
        # process dies: how `remove_stale_temporaries` tells a live write
        # (this process's or another's) from one that was killed.
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            kept = " The previous file is unchanged." if existed else ""
            raise DocumentFileError(path, f"could not be saved: {_reason(exc)}.{kept}") from exc
        raise
    _fsync_folder(path.parent)


def remove_stale_temporaries(targets: Iterable[Path | str] = (), *,
                             folder: Path | str | None = None,
                             min_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Delete the temporary files `atomic_write` left behind when it was
    killed (or lost power) while writing one of `targets`, or, given `folder`,
    any file in that folder (a folder only we write to). Returns what went.

    Only names of our own pattern for those files, only regular files, and
    never one a write in progress may still own: it must be unlocked (a live
    `atomic_write` holds a lock that dies with its process) and untouched for
    `min_age_s`, which also covers the instant between creating the file and
    locking it, and file systems where locks are not shared. Errors are
    ignored: tidying up must never fail a save.
    """
    # Folders by string: a batch passes 100,000 targets, and a Path per
    # target cost seconds.
    wanted: dict[str, set[str] | None] = {}
    if folder is not None:
        wanted[os.path.normpath(os.fspath(folder))] = None
    for target in targets:
        where, name = os.path.split(os.fspath(target))
        names = wanted.setdefault(os.path.normpath(where or "."), set())
        if names is not None:
            names.add(name)
    removed: list[Path] = []
    cutoff = time.time() - min_age_s
    for where, names in wanted.items():
        try:
            entries = list(os.scandir(where))
        except OSError:
            continue
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match is None or (names is not None and match["target"] not in names):
                continue
            with contextlib.suppress(OSError):
                if (entry.is_file(follow_symlinks=False)
                        and entry.stat(follow_symlinks=False).st_mtime < cutoff
                        and not _locked(entry.path)):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _locked(path: str) -> bool:
    if fcntl is None:
        return False
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing also drops the lock just taken
    return False


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def open_document(path: Path | str, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
                  ) -> tuple[Document, list[str]]:
    """Open a .ora or an image file as a NEW Document; returns (document, notes).
    Raises DocumentFileError (a UserFacingError) naming the file on any problem."""
    path = Path(path)
    if path.suffix.lower() == ".ora":
        return read_ora(path, max_megapixels)
    return document_from_image(path, max_megapixels)


def save_document(doc: Document, path: Path | str, compress_level: int = 6) -> None:
    """Save as OpenRaster (atomically) and mark the document saved at `path`.
    On failure the document stays modified and the old file is intact."""
    path = Path(path)
    if path.suffix.lower() != ".ora":
        raise DocumentFileError(path, "documents are saved as .ora; use Export for images")
    atomic_write(path, lambda fh: write_ora(doc, fh, compress_level))
    remove_stale_temporaries([path])
    doc.mark_saved(path)


def export_image(doc: Document, path: Path | str, quality: int = 92,
                 background: tuple[int, int, int] = (255, 255, 255)) -> None:
    """Write the flattened image as PNG (with alpha), WebP (with alpha) or JPEG
    (over `background`), chosen by extension. Does not mark the document saved."""
    path = Path(path)
    fmt = EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DocumentFileError(path, unknown_type(path))
    if fmt == "JPEG":
        pixels = compose(doc.layers, doc.rect, background=background)
        image = Image.fromarray(pixels[..., :3].copy(), "RGB")
        options = {"quality": int(quality), "optimize": True}
    else:
        image = Image.fromarray(doc.composite(), "RGBA")
        options = {"compress_level": 6} if fmt == "PNG" else {"quality": int(quality)}

    def write(fh: BinaryIO) -> None:
        buf = io.BytesIO()
        image.save(buf, fmt, **options)
        fh.write(buf.getbuffer())

    atomic_write(path, write)
    remove_stale_temporaries([path])


def write_file(doc: Document, path: Path | str, quality: int = 92) -> None:
    """Save by extension: .ora keeps layers (and marks saved), images are flattened."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ora":
        save_document(doc, path)
    elif suffix in EXPORT_FORMATS:
        export_image(doc, path, quality)
    else:
        raise DocumentFileError(path, unknown_type(path))


def convert(input_path: Path | str, output_path: Path | str, quality: int = 92,
            max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> list[str]:
    """Read any supported image or .ora and write .ora or a flattened
    PNG/JPEG/WebP (by the output extension). Returns notes about conversions.
    The output type is checked before anything is read."""
    output_path = Path(output_path)
    if output_path.suffix.lower() not in SAVE_SUFFIXES:
        raise DocumentFileError(output_path, unknown_type(output_path))
    doc, notes = open_document(input_path, max_megapixels)
    write_file(doc, output_path, quality)
    return notes


def unknown_type(path: Path) -> str:
    kind = f"“{path.suffix}”" if path.suffix else "a name without an extension"
    return (f"cannot write {kind}; use .ora (layers), .png, .jpg or .webp")
