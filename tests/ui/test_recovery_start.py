"""Recovery at every start, and autosaves that never outlive their use
(issue 11 items 9-11), through the whole app."""

from __future__ import annotations

import importlib
import os
import time

import numpy as np
import pytest
from autosave_crash import crash
from PIL import Image
from PySide6.QtWidgets import QApplication, QMessageBox

from artstudio import paths
from artstudio.document import Document, autosave, list_recoverable
from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.ui.application import StudioApplication
from artstudio.ui.dialogs import RecoveryDialog

# The package exports the function `autosave` under the module's name.
autosave_module = importlib.import_module("artstudio.document.autosave")


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.full((60, 80, 3), 200, np.uint8)).save(path)
    return path


@pytest.fixture
def crashed_work():
    """What a crash left: an autosave of a document with unsaved work."""
    doc = Document(32, 32)
    doc.add_layer(name="Unsaved work")
    entry = autosave(doc)
    crash()
    return entry


@pytest.fixture
def offers(monkeypatch):
    """Every recovery dialog shown: (its entries, its message, the document
    open then); the artist answers with `offers.answer`."""
    seen = []

    def exec_(dialog):
        window = dialog.parent()
        seen.append((dialog.entries, dialog.message.text(),
                     [dialog.list.item(i).text() for i in range(dialog.list.count())],
                     window.doc if window is not None else None))
        return seen.answer

    seen = type("Offers", (list,), {})()
    seen.answer = RecoveryDialog.RECOVER
    monkeypatch.setattr(RecoveryDialog, "exec", exec_)
    return seen


def slow_write_ora(chunks: int, pause_s: float):
    def write(doc, fh, compress_level=6):
        for _ in range(chunks):
            fh.write(b"\0" * 4096)
            time.sleep(pause_s)
    return write


def autosave_temporaries() -> list[str]:
    folder = paths.autosave_dir()
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] if folder.exists() else []


def test_starting_with_a_file_opens_it_and_offers_recovery(studio, qtbot, picture,
                                                         crashed_work, offers):
    studio.open_files([str(picture)])
    qtbot.waitUntil(lambda: len(offers) == 1, timeout=10000)
    entries, message, lines, open_then = offers[0]
    assert [e.id for e in entries] == [crashed_work.id]
    assert open_then is not None and open_then.size == (80, 60)  # the file opened first
    assert "photo" in message and "did not close normally" in message
    assert "autosaved" in lines[0] and "never saved to a file" in lines[0]
    qtbot.waitUntil(lambda: studio.window.doc is not open_then, timeout=10000)
    assert studio.window.doc.layers[-1].name == "Unsaved work"


def test_starting_without_a_file_still_offers_recovery(studio, qtbot, crashed_work, offers):
    offers.answer = RecoveryDialog.Rejected  # "Later": it stays for the next start
    studio.open_files([])
    qtbot.waitUntil(lambda: len(offers) == 1, timeout=10000)
    blank = studio.window.doc  # the first start's blank canvas, left as it was
    assert blank is not None and not blank.modified
    assert [e.id for e in list_recoverable()] == [crashed_work.id]


def test_the_dialog_says_the_file_on_disk_is_newer(studio, qtbot, tmp_path, offers):
    doc = Document(32, 32)
    doc.path = tmp_path / "painting.ora"
    doc.add_layer(name="Unsaved work")
    entry = autosave(doc)
    crash()
    doc.path.write_bytes(b"changed by another program")
    later = entry.timestamp + 60
    os.utime(doc.path, (later, later))
    offers.answer = RecoveryDialog.Rejected
    studio.open_files([])
    qtbot.waitUntil(lambda: len(offers) == 1, timeout=10000)
    assert "painting.ora on disk is newer" in offers[0][2][0]


def test_a_save_during_an_autosave_leaves_nothing_to_offer(studio, qtbot, tmp_path,
                                                         monkeypatch, offers):
    monkeypatch.setattr(autosave_module, "write_ora", slow_write_ora(20, 0.05))
    documents = studio.window.documents
    documents.set_document(new_document(32, 32))
    documents.doc.add_layer(name="Work")
    documents.doc.path = tmp_path / "painting.ora"
    job = documents.autosave_now()  # still writing when the save below ends
    assert documents.save(blocking=True)
    assert job.wait(10) is JobState.DONE
    qtbot.waitUntil(lambda: not studio.engine.busy(), timeout=10000)
    QApplication.processEvents()
    assert list_recoverable() == []
    documents.offer_recovery()
    assert offers == []


def test_quitting_during_an_autosave_leaves_no_temporary_file(qapp, qtbot, monkeypatch):
    monkeypatch.setattr(autosave_module, "write_ora", slow_write_ora(400, 0.05))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    studio = StudioApplication(qapp, show=False)
    try:
        documents = studio.window.documents
        documents.set_document(new_document(32, 32))
        documents.doc.add_layer(name="Work")
        job = documents.autosave_now()
        qtbot.waitUntil(lambda: bool(autosave_temporaries()), timeout=10000)
        assert documents.close_document()  # the artist discarded the work and quits
    finally:
        studio.close()
    assert job.state is not JobState.RUNNING
    assert autosave_temporaries() == []
    assert list_recoverable() == []
