"""Autosave snapshots and crash recovery.

Each document autosaves to `<autosave_id>.ora` plus a small JSON sidecar in
the autosave folder; the sidecar is written last, so an entry with a sidecar
always has a complete .ora. Deciding when to autosave is the UI's job (a
timer, and only when `doc.modified`); after a save it calls `record_save`, on a
clean close `discard_for`. To keep the GUI responsive, autosave a
`doc.copy()` on a worker thread.

An autosave is worth offering only while it holds work its file does not.
A snapshot being written while the document is saved or closed would land
after the save and look like lost work at the next start, so a save or a
close leaves a small `<autosave_id>.saved` note (the revision that reached
the disk, or "closed"), and an autosave whose revision that note covers is
never committed, and is removed (not offered) when found at start-up.

Several windows (processes) share the folder: the process writing or
recovering an autosave owns it (`autosave_owner`), and an owned autosave is
never offered, recovered, written or deleted by another window.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from artstudio import paths
from artstudio.document import autosave_owner
from artstudio.document.document import Document
from artstudio.document.errors import DocumentFileError
from artstudio.document.io_images import DEFAULT_MAX_MEGAPIXELS
from artstudio.document.ora import read_ora, write_ora
from artstudio.document.save import atomic_write, remove_stale_temporaries

_SIDECAR_VERSION = 2
_SAVED_SUFFIX = ".saved"
_commit = threading.Lock()
"""Held while an autosave commits its sidecar and while a save or close
records itself, so neither can slip between the other's check and write."""


@dataclass(frozen=True)
class AutosaveEntry:
    """One recoverable autosave."""

    id: str
    ora_path: Path
    sidecar_path: Path
    original_path: Path | None
    title: str
    timestamp: float
    """Seconds since the epoch when the snapshot was written."""
    revision: int | None = None
    """The document's revision in the snapshot (None: written by an older version)."""
    file_mtime: float | None = None
    """When the original file was last changed on disk, as found when listed
    (None: no original file, or it is gone)."""

    @property
    def file_is_newer(self) -> bool:
        """The original file on disk changed after this autosave was written."""
        return self.file_mtime is not None and self.file_mtime > self.timestamp


class _StopWhenAsked:
    """A stream that calls `check()` (which raises to stop) before each write,
    so a cancelled autosave stops soon and `atomic_write` removes its file."""

    def __init__(self, stream: BinaryIO, check: Callable[[], None]):
        self._stream, self._check = stream, check

    def write(self, data) -> int:
        self._check()
        return self._stream.write(data)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _folder(folder: Path | str | None) -> Path:
    return Path(folder) if folder is not None else paths.autosave_dir()


def autosave(doc: Document, folder: Path | str | None = None,
             cancel: Callable[[], None] | None = None) -> AutosaveEntry | None:
    """Write a snapshot of `doc` (atomically) and its sidecar; returns the
    entry, or None when the document was saved (at this revision or later) or
    closed while the snapshot was being written: then nothing is kept.
    `cancel()` is called between writes and raises to stop; the partly
    written file is removed. Does not change the document's modified flag."""
    folder = _folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DocumentFileError(folder, f"the autosave folder cannot be created "
                                        f"({exc.strerror or exc})") from exc
    ora = folder / f"{doc.autosave_id}.ora"
    _claim(folder, doc.autosave_id, ora, "is being autosaved by another Artstudio window")
    sidecar = folder / f"{doc.autosave_id}.json"

    def write(fh: BinaryIO) -> None:
        # Fast PNG compression: autosave runs often and size matters less than time.
        write_ora(doc, _StopWhenAsked(fh, cancel) if cancel else fh, compress_level=1)

    atomic_write(ora, write)
    entry = AutosaveEntry(doc.autosave_id, ora, sidecar, doc.path, doc.title, time.time(),
                          doc.revision)
    meta = {"version": _SIDECAR_VERSION, "id": entry.id, "ora": ora.name,
            "original_path": str(doc.path) if doc.path else None,
            "title": entry.title, "timestamp": entry.timestamp, "revision": doc.revision}
    with _commit:
        if _covered(_saved_note(folder, doc.autosave_id), doc.revision):
            with contextlib.suppress(FileNotFoundError):
                ora.unlink()
            return None
        atomic_write(sidecar, lambda fh: fh.write(json.dumps(meta, indent=1).encode()))
    return entry


def record_save(doc: Document, revision: int, folder: Path | str | None = None) -> None:
    """`doc` reached its file at `revision` (the saved snapshot's): its
    autosave goes unless it holds later work, and an autosave of that
    revision or older still being written will not be kept."""
    folder = _folder(folder)
    with _commit:
        _write_note(folder, doc.autosave_id, {"revision": int(revision)})
        entry = _read_entry(folder / f"{doc.autosave_id}.json")
        if entry is None or _covered({"revision": revision}, entry.revision):
            _remove_entry(folder, doc.autosave_id)


def discard_for(doc: Document, folder: Path | str | None = None) -> None:
    """Delete the autosave of `doc`, if any, on a clean close: none of it may
    come back, not even an autosave still being written now."""
    folder = _folder(folder)
    with _commit:
        _write_note(folder, doc.autosave_id, {"closed": True})
        _remove_entry(folder, doc.autosave_id)
        autosave_owner.release(folder, doc.autosave_id)


def forget(autosave_id: str, folder: Path | str | None = None) -> None:
    """Remove everything of a closed document's autosave, its note included
    (once no autosave of it can still be running: at quit)."""
    folder = _folder(folder)
    with _commit:
        _remove_entry(folder, autosave_id)
        with contextlib.suppress(OSError):
            (folder / f"{autosave_id}{_SAVED_SUFFIX}").unlink()
        autosave_owner.release(folder, autosave_id)


def list_recoverable(folder: Path | str | None = None) -> list[AutosaveEntry]:
    """Autosaves left in `folder` (by a crash) that hold unsaved work, newest
    first. Unreadable sidecars and sidecars whose .ora is gone are skipped,
    and so are autosaves a running window (this one or another) is writing;
    autosaves that a later save or a clean close covers are removed."""
    folder = _folder(folder)
    entries: list[AutosaveEntry] = []
    if not folder.is_dir():
        return entries
    for sidecar in folder.glob("*.json"):
        entry = _read_entry(sidecar)
        if entry is None or not entry.ora_path.is_file():
            continue
        if autosave_owner.owned_by_a_live_process(folder, entry.id):
            continue
        with _commit:
            if _covered(_saved_note(folder, entry.id), entry.revision):
                _remove_entry(folder, entry.id)
                with contextlib.suppress(OSError):
                    (folder / f"{entry.id}{_SAVED_SUFFIX}").unlink()
                with contextlib.suppress(OSError):
                    autosave_owner.owner_file(folder, entry.id).unlink()  # nobody holds it
                continue
        entries.append(entry)
    entries.sort(key=lambda e: e.timestamp, reverse=True)
    return entries


_NOTE_KEPT_S = 3600.0


def clean_up(folder: Path | str | None = None) -> list[Path]:
    """At start-up: remove what interrupted autosaves left in the folder
    (their temporary files) and save notes no autosave needs any more (a note
    matters only while an autosave of its document may be committing, so
    an hour-old one without an entry is safe to drop even if another window
    is running). Returns what was removed."""
    folder = _folder(folder)
    removed = remove_stale_temporaries(folder=folder)
    removed += autosave_owner.remove_unowned(folder, {p.stem for p in folder.glob("*.json")})
    cutoff = time.time() - _NOTE_KEPT_S
    for note in folder.glob(f"*{_SAVED_SUFFIX}"):
        with contextlib.suppress(OSError):
            if (not note.with_suffix(".json").exists() and note.is_file()
                    and note.stat().st_mtime < cutoff):
                note.unlink()
                removed.append(note)
    return removed


def recover(entry: AutosaveEntry, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
            ) -> tuple[Document, list[str]]:
    """Open an autosave as a modified document that remembers its original
    path and keeps autosaving to the same entry, which this process owns
    from now on. Raises DocumentFileError when another window recovered it
    first (or is writing it)."""
    folder = entry.sidecar_path.parent
    _claim(folder, entry.id, entry.ora_path, "is already open in another Artstudio window")
    try:
        doc, notes = read_ora(entry.ora_path, max_megapixels)
    except BaseException:
        autosave_owner.release(folder, entry.id)
        raise
    doc.path = entry.original_path
    doc.autosave_id = entry.id
    # The old session's note would hide this document's own new autosaves.
    with contextlib.suppress(OSError):
        (entry.ora_path.parent / f"{entry.id}{_SAVED_SUFFIX}").unlink()
    doc.mark_modified()
    return doc, notes


def discard(entry: AutosaveEntry) -> None:
    """Delete an autosave (both files); missing files are fine. One that
    another window recovered meanwhile is left to it (DocumentFileError)."""
    folder = entry.sidecar_path.parent
    _claim(folder, entry.id, entry.ora_path, "is open in another Artstudio window")
    for file in (entry.sidecar_path, entry.ora_path):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
    autosave_owner.release(folder, entry.id)


def _claim(folder: Path, autosave_id: str, shown: Path, refusal: str) -> None:
    try:
        autosave_owner.claim(folder, autosave_id)
    except autosave_owner.OwnedElsewhere:
        raise DocumentFileError(shown, refusal) from None
    except OSError as exc:
        raise DocumentFileError(shown, f"cannot be autosaved ({exc.strerror or exc})") from exc


def _read_entry(sidecar: Path) -> AutosaveEntry | None:
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        ora = sidecar.parent / Path(str(meta["ora"])).name
        original = Path(meta["original_path"]) if meta.get("original_path") else None
        revision = meta.get("revision")
        file_mtime = None
        if original is not None:
            with contextlib.suppress(OSError):
                file_mtime = os.stat(original).st_mtime
        return AutosaveEntry(str(meta["id"]), ora, sidecar, original,
                             str(meta.get("title", ora.stem)), float(meta["timestamp"]),
                             None if revision is None else int(revision), file_mtime)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _saved_note(folder: Path, autosave_id: str) -> dict | None:
    try:
        note = json.loads((folder / f"{autosave_id}{_SAVED_SUFFIX}").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return note if isinstance(note, dict) else None


def _covered(note: dict | None, revision: int | None) -> bool:
    """Does a save/close note make an autosave of `revision` worthless?"""
    if note is None:
        return False
    if note.get("closed"):
        return True
    saved_revision = note.get("revision")
    if not isinstance(saved_revision, int) or revision is None:
        return False  # cannot tell: keep it, losing work is worse
    return revision <= saved_revision


def _write_note(folder: Path, autosave_id: str, note: dict) -> None:
    with contextlib.suppress(OSError, DocumentFileError):
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"{autosave_id}{_SAVED_SUFFIX}",
                     lambda fh: fh.write(json.dumps(note).encode()))


def _remove_entry(folder: Path, autosave_id: str) -> None:
    # The sidecar first: without it the .ora is never offered.
    for suffix in (".json", ".ora"):
        with contextlib.suppress(OSError):
            (folder / f"{autosave_id}{suffix}").unlink()
