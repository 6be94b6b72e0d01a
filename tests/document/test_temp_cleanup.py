"""Temporary files left by interrupted writes are removed: ours, for the file
being written, and never one a live write still owns (issue 11 item 11,
issue 12 item 5)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from autosave_crash import crash
from PIL import Image

from artstudio.batch.naming import Item
from artstudio.batch.pipeline import run_batch
from artstudio.document import autosave, export_image, list_recoverable, save_document
from artstudio.document.autosave import clean_up
from artstudio.document.save import atomic_write, remove_stale_temporaries

REPO = Path(__file__).resolve().parents[2]


def age(path: Path, seconds: float = 600) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def old_file(path: Path, data: bytes = b"") -> Path:
    """A file as a write killed ten minutes ago leaves it."""
    path.write_bytes(data)
    return age(path)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def killed_during_write(target: Path) -> Path:
    """A real process killed (SIGKILL) in the middle of `atomic_write(target)`;
    returns the temporary file it left."""
    script = textwrap.dedent(f"""
        import sys, time
        from artstudio.document.save import atomic_write
        def write(fh):
            fh.write(b"x" * 100000)
            fh.flush()
            print("writing", flush=True)
            time.sleep(60)
        atomic_write({str(target)!r}, write)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    left = [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.")]
    assert len(left) == 1 and left[0].stat().st_size == 100000
    return left[0]


def test_a_save_removes_what_a_killed_save_of_that_file_left(tmp_path, doc):
    target = tmp_path / "big.ora"
    save_document(doc, target)
    left = age(killed_during_write(target))
    # What is not ours, or not for this file, or too new to be sure of, stays.
    decoys = [tmp_path / name for name in (
        ".other.ora.abcdefgh.tmp",  # our pattern, another file
        ".big.ora.tmp",  # not our pattern (no random part)
        "big.ora.abcdefgh.tmp",  # not hidden: not ours
        ".big.ora.abcdefgh.temp",
    )]
    for decoy in decoys:
        old_file(decoy, b"keep")
    young = tmp_path / ".big.ora.young123.tmp"
    young.write_bytes(b"a write that may be in progress")
    elsewhere = tmp_path / "real.txt"
    elsewhere.write_text("someone's file")
    link = tmp_path / ".big.ora.linklink.tmp"
    link.symlink_to(elsewhere)

    doc.rename_layer(0, "Changed")
    save_document(doc, target)

    assert not left.exists()
    assert all(d.exists() for d in decoys) and young.exists()
    assert link.is_symlink() and elsewhere.read_text() == "someone's file"
    assert temporaries(tmp_path) == sorted(p.name for p in [*decoys, young, link]
                                           if p.name.endswith(".tmp"))


def test_a_temporary_file_a_live_write_holds_is_kept(tmp_path):
    target = tmp_path / "picture.png"
    seen = {}

    def write(fh):
        tmp = next(p for p in tmp_path.iterdir() if p.name.startswith(".picture.png."))
        age(tmp)  # old, but its write is alive: the lock says so
        seen["removed"] = remove_stale_temporaries([target])
        fh.write(b"done")

    atomic_write(target, write)
    assert seen["removed"] == [] and target.read_bytes() == b"done"


def test_a_temporary_file_locked_by_another_process_is_kept(tmp_path):
    other = old_file(tmp_path / ".picture.png.k3y9zz_q.tmp")
    fd = os.open(other, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert remove_stale_temporaries([tmp_path / "picture.png"]) == []
    finally:
        os.close(fd)
    assert remove_stale_temporaries([tmp_path / "picture.png"]) == [other]


def test_an_export_removes_stale_temporaries_of_its_file(tmp_path, doc):
    target = tmp_path / "flat.png"
    left = old_file(tmp_path / ".flat.png.a1b2c3d4.tmp")
    export_image(doc, target)
    assert not left.exists() and target.is_file()


def test_start_up_removes_temporaries_of_interrupted_autosaves(tmp_path, doc):
    folder = tmp_path / "autosave"
    doc.rename_layer(0, "Edited")
    autosave(doc, folder)
    left = age(killed_during_write(folder / f"{doc.autosave_id}.ora"))
    foreign = old_file(folder / ".x.json.abcdefgh.tmp")
    removed = clean_up(folder)
    assert sorted(removed) == sorted([left, foreign])
    assert temporaries(folder) == []
    crash()
    assert [e.id for e in list_recoverable(folder)] == [doc.autosave_id]


def test_a_cancelled_autosave_removes_its_temporary_and_keeps_the_last_one(tmp_path, doc):
    folder = tmp_path / "autosave"
    doc.rename_layer(0, "First")
    autosave(doc, folder)
    before = (folder / f"{doc.autosave_id}.ora").read_bytes()
    doc.rename_layer(0, "Second")
    calls = []

    class Stop(Exception):
        pass

    def cancel():
        calls.append(1)
        if len(calls) > 2:
            raise Stop

    with pytest.raises(Stop):
        autosave(doc, folder, cancel=cancel)
    assert temporaries(folder) == []
    assert (folder / f"{doc.autosave_id}.ora").read_bytes() == before


def test_a_batch_removes_stale_temporaries_of_its_outputs(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    items = []
    for name in ("a", "b"):
        Image.fromarray(np.full((8, 8, 3), 100, np.uint8)).save(src / f"{name}.png")
        items.append(Item(src / f"{name}.png", out / f"{name}.png"))
    # What a killed run left: a 0-byte temporary per output it was writing.
    for name in (".a.png.q1w2e3r4.tmp", ".b.png.zz99aa00.tmp"):
        old_file(out / name)
    not_ours = old_file(out / ".notes.txt.abcdefgh.tmp")

    report = run_batch(items, lambda rgba: 255 - rgba)

    assert len(report.written) == 2
    assert temporaries(out) == [not_ours.name]
