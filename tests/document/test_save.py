"""Atomic saving, exports and the convert function the CLI uses."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from conftest import noise
from PIL import Image

from artstudio.document import (
    Document,
    DocumentFileError,
    atomic_write,
    convert,
    export_image,
    open_document,
    save_document,
)
from artstudio.engine.errors import UserFacingError


def test_failed_save_keeps_old_file_and_removes_temp(tmp_path, doc, monkeypatch):
    path = tmp_path / "work.ora"
    save_document(doc, path)
    old = path.read_bytes()
    doc.rename_layer(0, "Changed")
    assert doc.modified

    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(UserFacingError, match=r"work\.ora.*disk is full"):
        save_document(doc, path)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work.ora"]
    assert doc.modified


def test_a_folder_that_cannot_be_written(tmp_path, doc):
    """A path under a regular file fails with ENOTDIR, for root too (a
    read-only folder does not stop root)."""
    blocker = tmp_path / "afile"
    blocker.write_bytes(b"not a folder")
    doc.rename_layer(0, "Changed")
    with pytest.raises(DocumentFileError, match=r"work\.ora"):
        save_document(doc, blocker / "work.ora")
    assert doc.modified and doc.path is None
    assert blocker.read_bytes() == b"not a folder"
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_read_only_folder_keeps_the_old_file(tmp_path, doc, monkeypatch):
    """What a read-only folder does to a save (no temporary file can be
    made beside the old one), as the system reports it to any user."""
    import tempfile

    path = tmp_path / "work.ora"
    save_document(doc, path)
    old = path.read_bytes()

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    doc.rename_layer(0, "Changed")
    with pytest.raises(DocumentFileError, match=r"work\.ora.*not writable"):
        save_document(doc, path)
    assert path.read_bytes() == old and doc.modified


def test_failure_inside_the_writer_is_cleaned_up(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")

    def writer(fh):
        fh.write(b"partial")
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(DocumentFileError):
        atomic_write(path, writer)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["x.bin"]


def test_exports(tmp_path):
    d = Document(8, 8)
    px = np.zeros((8, 8, 4), np.uint8)
    px[:4] = (0, 0, 0, 51)
    d.add_layer(px)
    export_image(d, tmp_path / "a.png")
    export_image(d, tmp_path / "a.jpg", quality=100)
    export_image(d, tmp_path / "a.webp", quality=100)
    png = np.asarray(Image.open(tmp_path / "a.png"))
    assert png.shape == (8, 8, 4) and tuple(png[0, 0]) == (0, 0, 0, 51)
    jpg = np.asarray(Image.open(tmp_path / "a.jpg"))
    assert abs(int(jpg[0, 0, 0]) - 204) <= 2 and jpg[7, 7, 0] >= 253  # on white
    assert Image.open(tmp_path / "a.webp").mode == "RGBA"
    assert d.modified  # exporting is not saving


def test_convert(tmp_path):
    Image.fromarray(noise(16, 12, 1, opaque=True)).save(tmp_path / "in.png")
    convert(tmp_path / "in.png", tmp_path / "out.ora")
    doc, _ = open_document(tmp_path / "out.ora")
    assert doc.size == (16, 12)
    convert(tmp_path / "out.ora", tmp_path / "out.jpg", quality=80)
    assert Image.open(tmp_path / "out.jpg").format == "JPEG"
    convert(tmp_path / "out.ora", tmp_path / "out.webp")
    with pytest.raises(UserFacingError, match=r"out\.gif"):
        convert(tmp_path / "in.png", tmp_path / "out.gif")
    assert not (tmp_path / "out.gif").exists()
