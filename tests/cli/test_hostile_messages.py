"""Messages under odd input: the upscale line says the scale in words, a
file name cannot forge a line of the summary, a save that fails mentions a
previous file only when there was one."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main
from artstudio.commands.upscale import describe
from artstudio.document.errors import DocumentFileError
from artstudio.document.save import atomic_write
from artstudio.engine.printable import printable


def test_the_upscale_line_says_the_scale_and_the_model(tmp_path, capsys):
    Image.new("RGB", (8, 6)).save(tmp_path / "a.png")
    assert main(["upscale", str(tmp_path / "a.png"), str(tmp_path / "o.png"),
                 "--model", "lanczos"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("upscale 2x with Lanczos: 1 image(s) to ")
    assert describe("builtin", None) == "upscale 2x with the built-in model"
    assert describe("builtin", 3.0) == "upscale 3x with the built-in model"
    assert describe("/m/4x-Ultra.pth", None) == "upscale with 4x-Ultra.pth at its own scale"
    assert describe("/m/4x-Ultra.pth", 1.5) == "upscale 1.5x with 4x-Ultra.pth"


def test_a_newline_in_a_file_name_cannot_forge_a_summary_line(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(src / "good.png")
    forged = "bad\n  failed: forged.png: the disk is on fire\x1b[2J.png"
    (src / forged).write_bytes(b"not an image")
    assert main(["style", str(src), str(tmp_path / "out"), "--style", "1"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert not any(line.startswith("  failed: forged.png") for line in lines)
    failed = [line for line in lines if line.startswith("  failed: ")]
    assert len(failed) == 1
    assert "bad\\n  failed: forged.png: the disk is on fire\\x1b[2J.png: " in failed[0]
    assert "\x1b" not in "\n".join(lines)


def test_printable_escapes_controls_and_undecodable_bytes_only():
    assert printable("café 😀 C:\\dir\\a.png") == "café 😀 C:\\dir\\a.png"
    assert printable("a\tb\nc\x7f") == "a\\tb\\nc\\x7f"
    assert printable(os.fsdecode(b"bad\xff.png")) == "bad\\xff.png"
    assert printable("gnp\u202e.exe") == "gnp\\u202e.exe"
    assert printable(printable("a\nb")) == "a\\nb"


def _full_disk(_fh):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_save_mentions_the_previous_file_only_when_there_was_one(tmp_path):
    new = tmp_path / "new.png"
    with pytest.raises(DocumentFileError) as caught:
        atomic_write(new, _full_disk)
    assert caught.value.reason == "could not be saved: the disk is full."
    assert not new.exists()
    old = tmp_path / "old.png"
    old.write_bytes(b"old")
    with pytest.raises(DocumentFileError) as caught:
        atomic_write(old, _full_disk)
    assert caught.value.reason == ("could not be saved: the disk is full. "
                                   "The previous file is unchanged.")
    assert old.read_bytes() == b"old"
