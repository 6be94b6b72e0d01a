"""Two running windows share one autosave folder: what one is writing, the
other never offers, recovers, deletes or tidies away; once the writer dies
(killed, as in a crash) its autosave is offered, and only one window can
recover it. The other window is a real second process."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from autosave_crash import crash

from artstudio.document import autosave, discard, list_recoverable, recover
from artstudio.document.autosave import _read_entry, clean_up
from artstudio.document.errors import DocumentFileError

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from artstudio.document import Document, autosave
    doc = Document(32, 24)
    doc.add_layer(np.full((24, 32, 4), 200, np.uint8), name="Live work")
    entry = autosave(doc, sys.argv[1])
    print(entry.id, flush=True)
    sys.stdin.readline()  # a live window: keeps running until told
    doc.rename_layer(0, "Still live")
    print("ok" if autosave(doc, sys.argv[1]) else "lost", flush=True)
""")

RECOVERER = textwrap.dedent("""
    import sys
    from artstudio.document import list_recoverable, recover
    from artstudio.document.autosave import _read_entry
    from pathlib import Path
    entry = _read_entry(Path(sys.argv[1]) / (sys.argv[2] + ".json"))
    try:
        recover(entry)
    except Exception as exc:
        print("refused:", exc, flush=True)
        sys.exit(3)
    print("recovered", flush=True)
""")


def start(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def digest(folder: Path, autosave_id: str) -> dict[str, str]:
    return {suffix: hashlib.sha256((folder / f"{autosave_id}{suffix}").read_bytes()).hexdigest()
            for suffix in (".ora", ".json")}


@pytest.fixture
def live_writer(tmp_path):
    folder = tmp_path / "autosave"
    proc = start(WRITER, folder)
    autosave_id = proc.stdout.readline().strip()
    assert autosave_id, "the writer process did not autosave"
    yield proc, folder, autosave_id
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


def test_an_autosave_another_live_window_writes_is_left_alone(live_writer):
    proc, folder, autosave_id = live_writer
    before = digest(folder, autosave_id)
    assert list_recoverable(folder) == []  # not offered: its window is running
    clean_up(folder)
    entry = _read_entry(folder / f"{autosave_id}.json")
    with pytest.raises(DocumentFileError, match="open in another Artstudio window"):
        recover(entry)
    with pytest.raises(DocumentFileError, match="open in another Artstudio window"):
        discard(entry)
    assert digest(folder, autosave_id) == before  # intact, byte for byte
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "ok"  # and the writer goes on autosaving
    assert proc.wait(timeout=30) == 0


def test_a_window_cannot_write_an_autosave_another_window_owns(live_writer, doc):
    _proc, folder, autosave_id = live_writer
    before = digest(folder, autosave_id)
    doc.autosave_id = autosave_id  # as if this window had recovered the same document
    with pytest.raises(DocumentFileError, match="another Artstudio window"):
        autosave(doc, folder)
    assert digest(folder, autosave_id) == before


def test_once_the_writer_is_killed_its_autosave_is_offered_and_recovered_once(live_writer):
    proc, folder, autosave_id = live_writer
    proc.send_signal(signal.SIGKILL)  # a crash: no clean close, no tidying
    proc.wait(timeout=30)
    entry, = list_recoverable(folder)
    assert entry.id == autosave_id
    recovered, _ = recover(entry)
    assert recovered.layer(0).name == "Live work"

    other = start(RECOVERER, folder, autosave_id)  # a third window tries the same
    out, _ = other.communicate(timeout=60)
    assert other.returncode == 3 and "already open in another Artstudio window" in out
    assert list_recoverable(folder) == []  # this window holds it now

    crash()  # and when this one goes too, it is offered again
    assert [e.id for e in list_recoverable(folder)] == [autosave_id]


def test_start_up_tidies_owner_files_only_of_gone_autosaves(tmp_path, doc):
    folder = tmp_path / "autosave"
    autosave(doc, folder)
    stray = folder / "0123abcd.owner"  # a window that closed its document, then crashed
    stray.write_text("")
    assert clean_up(folder) == [stray]
    assert (folder / f"{doc.autosave_id}.owner").exists()
