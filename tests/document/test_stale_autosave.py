"""An autosave that a save or a clean close made worthless is never offered
(issue 11 item 10). The races are played the way they happen: the GUI
thread saves or closes while a worker is in the middle of writing the
autosave (here: from inside the autosave's own write)."""

from __future__ import annotations

import json
import os
import time

from autosave_crash import crash

from artstudio.document import (
    autosave,
    discard_for,
    list_recoverable,
    record_save,
    recover,
    save_document,
)
from artstudio.document.autosave import clean_up, forget


def files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_autosave_finished_after_the_save_of_its_state_is_not_kept(tmp_path, doc):
    folder = tmp_path / "autosave"
    target = tmp_path / "painting.ora"
    doc.rename_layer(0, "Edited")
    snapshot = doc.copy()  # the autosave timer fires...

    def meanwhile():  # ...and while it writes, the save finishes and is recorded
        if not (folder / f"{doc.autosave_id}.saved").exists():
            saved = doc.copy()
            save_document(saved, target)
            record_save(doc, saved.revision, folder)

    assert autosave(snapshot, folder, cancel=meanwhile) is None
    assert list_recoverable(folder) == []
    assert not (folder / f"{doc.autosave_id}.ora").exists()
    assert not (folder / f"{doc.autosave_id}.json").exists()


def test_an_autosave_of_strokes_after_the_save_is_kept(tmp_path, doc):
    folder = tmp_path / "autosave"
    target = tmp_path / "painting.ora"
    doc.rename_layer(0, "Saved state")
    saved = doc.copy()
    doc.rename_layer(0, "Painted on while saving")
    save_document(saved, target)
    autosave(doc, folder)  # the newer state, autosaved
    record_save(doc, saved.revision, folder)  # the save of the older one reports late
    crash()
    entries = list_recoverable(folder)
    assert [e.id for e in entries] == [doc.autosave_id]
    recovered, _ = recover(entries[0])
    assert recovered.layer(0).name == "Painted on while saving"


def test_a_clean_close_during_an_autosave_leaves_nothing_to_offer(tmp_path, doc):
    folder = tmp_path / "autosave"
    doc.rename_layer(0, "Discarded work")
    autosave(doc, folder)
    doc.rename_layer(0, "More discarded work")
    snapshot = doc.copy()
    assert autosave(snapshot, folder, cancel=lambda: discard_for(doc, folder)) is None
    assert list_recoverable(folder) == []
    forget(doc.autosave_id, folder)  # at quit
    assert files(folder) == []


def test_a_crash_after_a_covered_autosave_removes_it_at_the_next_start(tmp_path, doc):
    """The entry outlived the note that covers it (the process died between
    the two): the next start removes it instead of offering it."""
    folder = tmp_path / "autosave"
    doc.path = tmp_path / "painting.ora"
    doc.rename_layer(0, "Edited")
    autosave(doc, folder)
    (folder / f"{doc.autosave_id}.saved").write_text(json.dumps({"revision": doc.revision}))
    crash()
    assert list_recoverable(folder) == []
    assert files(folder) == []


def test_each_entry_says_when_it_was_made_and_whether_the_file_is_newer(tmp_path, doc):
    folder = tmp_path / "autosave"
    target = tmp_path / "painting.ora"
    save_document(doc, target)
    doc.rename_layer(0, "Edited")
    autosave(doc, folder)
    crash()
    entry, = list_recoverable(folder)
    assert abs(entry.timestamp - time.time()) < 60
    assert entry.original_path == target and not entry.file_is_newer

    later = entry.timestamp + 120  # another program wrote the file after the autosave
    os.utime(target, (later, later))
    entry, = list_recoverable(folder)
    assert entry.file_is_newer and entry.file_mtime == later

    target.unlink()
    entry, = list_recoverable(folder)
    assert entry.file_mtime is None and not entry.file_is_newer


def test_a_recovered_document_keeps_autosaving(tmp_path, doc):
    folder = tmp_path / "autosave"
    doc.rename_layer(0, "Edited")
    autosave(doc, folder)
    record_save(doc, doc.revision - 1, folder)  # an older save: the autosave stays
    crash()
    entry, = list_recoverable(folder)
    recovered, _ = recover(entry)
    recovered.rename_layer(0, "Edited after recovery")
    assert autosave(recovered, folder) is not None
    crash()
    assert [e.id for e in list_recoverable(folder)] == [doc.autosave_id]


def test_an_autosave_without_a_revision_is_kept_unless_its_document_closed(tmp_path, doc):
    """Sidecars of the previous version carry no revision: a save note cannot
    say it is covered, so it is offered (losing work is worse)."""
    folder = tmp_path / "autosave"
    doc.rename_layer(0, "Edited")
    entry = autosave(doc, folder)
    meta = json.loads(entry.sidecar_path.read_text())
    del meta["revision"]
    entry.sidecar_path.write_text(json.dumps(meta))
    record_save(doc, 10**6, folder)
    crash()
    assert [e.revision for e in list_recoverable(folder)] == [None]
    (folder / f"{doc.autosave_id}.saved").write_text('{"closed": true}')
    assert list_recoverable(folder) == []


def test_start_up_drops_old_save_notes_without_an_autosave(tmp_path, doc):
    folder = tmp_path / "autosave"
    record_save(doc, 3, folder)
    note = folder / f"{doc.autosave_id}.saved"
    assert clean_up(folder) == []  # recent: a window still running may need it
    old = time.time() - 7200
    os.utime(note, (old, old))
    assert clean_up(folder) == [note]
    assert files(folder) == []
