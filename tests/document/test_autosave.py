"""Autosave snapshots, listing, recovery and discarding."""

from __future__ import annotations

import numpy as np
from autosave_crash import crash

from artstudio import paths
from artstudio.document import autosave, discard, discard_for, list_recoverable, recover


def test_autosave_list_recover_discard(tmp_path, doc):
    doc.path = tmp_path / "painting.ora"
    doc.rename_layer(0, "Edited")
    entry = autosave(doc)  # default folder: the app's data folder
    assert entry.ora_path.parent == paths.autosave_dir()
    assert doc.modified  # autosaving is not saving
    autosave(doc)  # the same document overwrites its entry
    crash()
    found = list_recoverable()
    assert [e.id for e in found] == [doc.autosave_id]
    assert found[0].title == "painting" and found[0].original_path == doc.path

    recovered, notes = recover(found[0])
    assert notes == [] and recovered.modified and recovered.path == doc.path
    assert recovered.layer(0).name == "Edited"
    assert np.array_equal(recovered.composite(), doc.composite())

    crash()  # the recovering window went too
    discard(found[0])
    assert list_recoverable() == []


def test_broken_entries_are_skipped_and_clean_close_discards(tmp_path, doc):
    folder = tmp_path / "auto"
    autosave(doc, folder)
    (folder / "junk.json").write_text("{not json")
    (folder / "orphan.json").write_text('{"id": "x", "ora": "gone.ora", "timestamp": 1}')
    crash()
    assert len(list_recoverable(folder)) == 1
    discard_for(doc, folder)
    assert list_recoverable(folder) == []
