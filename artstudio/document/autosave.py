"""Autosave snapshots and crash recovery.

Each document autosaves to `<autosave_id>.ora` plus a small JSON sidecar in
the autosave folder; the sidecar is written last, so an entry with a sidecar
always has a complete .ora. Deciding when to autosave is the UI's job (a
timer, and only when `doc.modified`); on a clean close it calls `discard_for`.
To keep the GUI responsive, autosave a `doc.copy()` on a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from artstudio import paths
from artstudio.document.document import Document
from artstudio.document.errors import DocumentFileError
from artstudio.document.io_images import DEFAULT_MAX_MEGAPIXELS
from artstudio.document.ora import read_ora, write_ora
from artstudio.document.save import atomic_write

_SIDECAR_VERSION = 1


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


def autosave(doc: Document, folder: Path | str | None = None) -> AutosaveEntry:
    """Write a snapshot of `doc` (atomically) and its sidecar; returns the entry.
    Does not change the document's modified flag."""
    folder = Path(folder) if folder is not None else paths.autosave_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DocumentFileError(folder, f"the autosave folder cannot be created "
                                        f"({exc.strerror or exc})") from exc
    ora = folder / f"{doc.autosave_id}.ora"
    sidecar = folder / f"{doc.autosave_id}.json"
    # Fast PNG compression: autosave runs often and size matters less than time.
    atomic_write(ora, lambda fh: write_ora(doc, fh, compress_level=1))
    entry = AutosaveEntry(doc.autosave_id, ora, sidecar, doc.path, doc.title, time.time())
    meta = {"version": _SIDECAR_VERSION, "id": entry.id, "ora": ora.name,
            "original_path": str(doc.path) if doc.path else None,
            "title": entry.title, "timestamp": entry.timestamp}
    atomic_write(sidecar, lambda fh: fh.write(json.dumps(meta, indent=1).encode()))
    return entry


def list_recoverable(folder: Path | str | None = None) -> list[AutosaveEntry]:
    """Autosaves left in `folder` (by a crash), newest first. Unreadable
    sidecars and sidecars whose .ora is gone are skipped."""
    folder = Path(folder) if folder is not None else paths.autosave_dir()
    entries: list[AutosaveEntry] = []
    if not folder.is_dir():
        return entries
    for sidecar in folder.glob("*.json"):
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            ora = folder / Path(str(meta["ora"])).name
            original = meta.get("original_path")
            entry = AutosaveEntry(str(meta["id"]), ora, sidecar,
                                  Path(original) if original else None,
                                  str(meta.get("title", ora.stem)), float(meta["timestamp"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if ora.is_file():
            entries.append(entry)
    entries.sort(key=lambda e: e.timestamp, reverse=True)
    return entries


def recover(entry: AutosaveEntry, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
            ) -> tuple[Document, list[str]]:
    """Open an autosave as a modified document that remembers its original
    path and keeps autosaving to the same entry."""
    doc, notes = read_ora(entry.ora_path, max_megapixels)
    doc.path = entry.original_path
    doc.autosave_id = entry.id
    doc.mark_modified()
    return doc, notes


def discard(entry: AutosaveEntry) -> None:
    """Delete an autosave (both files); missing files are fine."""
    for file in (entry.sidecar_path, entry.ora_path):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()


def discard_for(doc: Document, folder: Path | str | None = None) -> None:
    """Delete the autosave of `doc`, if any (call on a clean close or after saving)."""
    folder = Path(folder) if folder is not None else paths.autosave_dir()
    for suffix in (".json", ".ora"):
        with contextlib.suppress(FileNotFoundError):
            (folder / f"{doc.autosave_id}{suffix}").unlink()
