"""Names that are not plain image files: a named pipe, a socket, a folder or
a link loop named like an image. Each is reported for what it is and
skipped, never opened (a pipe would block the batch forever), and the rest
of the batch is written. The commands run as a real process with a timeout,
so a hang fails the test instead of hanging the suite."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artstudio.batch import find_images, plan_batch
from artstudio.engine import UserFacingError

ROOT = Path(__file__).resolve().parents[2]
PIPE = "not a regular file (a named pipe)"
LOOP = "a symbolic link loop"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def artstudio(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture
def hostile(tmp_path):
    """Two real images beside a pipe, a socket, a folder and a link loop
    all named like images."""
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.jpg"):
        Image.fromarray(rng.integers(0, 255, (20, 28, 3), dtype=np.uint8)).save(src / name)
    os.mkfifo(src / "pipe.png")
    os.symlink("loop.png", src / "loop.png")
    (src / "folder.png").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    with contextlib.suppress(OSError):  # a path too long for a socket address
        sock.bind(str(src / "sock.png"))
    yield src
    sock.close()


def test_walk_names_what_each_non_file_is(hostile):
    found = find_images(hostile, recursive=False)
    assert sorted(p.name for p in found.images) == ["a.png", "b.jpg"]
    reasons = {p.name: r for p, r in found.skipped}
    assert reasons["pipe.png"] == PIPE
    assert reasons["loop.png"].startswith(LOOP)
    if (hostile / "sock.png").exists():
        assert reasons["sock.png"] == "not a regular file (a socket)"


@pytest.mark.parametrize("command", [
    ["style", "--style", "1"],
    ["upscale", "--model", "lanczos", "--scale", "2"],
])
def test_a_folder_batch_finishes_skips_them_and_writes_the_rest(hostile, tmp_path, command):
    out, report = tmp_path / "out", tmp_path / "report.json"
    name, *options = command
    proc = artstudio(name, str(hostile), str(out), *options, "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.glob("*.png")) == ["a.png", "b.png"]
    assert Image.open(out / "a.png").size[0] in (28, 56)
    skipped = {Path(s["file"]).name: s["reason"] for s in json.loads(report.read_text())["skipped"]}
    assert skipped["pipe.png"] == PIPE and skipped["loop.png"].startswith(LOOP)
    assert "skipped" in proc.stderr


@pytest.mark.parametrize("command", [["style", "--style", "1"], ["upscale", "--model", "lanczos"]])
def test_one_pipe_or_loop_as_input_is_named_for_what_it_is(hostile, tmp_path, command):
    name, *options = command
    for entry, words in (("pipe.png", PIPE), ("loop.png", LOOP)):
        proc = artstudio(name, str(hostile / entry), str(tmp_path / "o.png"), *options)
        assert proc.returncode == 2
        assert words in proc.stderr and "does not exist" not in proc.stderr
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("suffix", [".png", ".ora"])
def test_export_of_a_pipe_finishes_with_the_reason(tmp_path, suffix):
    pipe = tmp_path / f"pipe{suffix}"
    os.mkfifo(pipe)
    proc = artstudio("export", str(pipe), str(tmp_path / "o.png"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"artstudio export: “pipe{suffix}”: {PIPE}"
    assert not (tmp_path / "o.png").exists()


def test_export_of_a_link_loop_says_so(tmp_path):
    os.symlink("me.png", tmp_path / "me.png")
    proc = artstudio("export", str(tmp_path / "me.png"), str(tmp_path / "o.png"))
    assert proc.returncode != 0 and LOOP in proc.stderr and "does not exist" not in proc.stderr


def test_style_and_model_files_that_are_pipes_are_refused_by_name(hostile, tmp_path):
    cases = [
        ("style", "--style-image", "style image"),
        ("style", "--cyclegan", "CycleGAN model"),
        ("upscale", "--model", "Model file"),
    ]
    for command, flag, what in cases:
        proc = artstudio(command, str(hostile), str(tmp_path / "o"), flag,
                         str(hostile / "pipe.png"))
        assert proc.returncode == 2, proc.stderr
        assert f"{what} {hostile / 'pipe.png'}: {PIPE}" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_plan_says_what_a_single_input_is(hostile):
    with pytest.raises(UserFacingError, match=r"pipe\.png: not a regular file \(a named pipe\)"):
        plan_batch(hostile / "pipe.png", hostile.parent / "o.png")
    with pytest.raises(UserFacingError, match="the file does not exist"):
        plan_batch(hostile / "missing.png", hostile.parent / "o.png")


def test_generate_with_a_pipe_as_model_is_refused_not_read(tmp_path):
    from artstudio.model_files.identify import identify

    pipe = tmp_path / "model.safetensors"
    os.mkfifo(pipe)
    # In a process of its own first: a reader that opens the pipe blocks for good.
    proc = artstudio("generate", "--model", str(pipe), "--prompt", "x",
                     "--out", str(tmp_path / "g.png"))
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(f"model.safetensors is not a model generate can use: "
                                        f"{PIPE}")
    info = identify(pipe)
    assert info.kind == "invalid" and info.notes == (PIPE,)
