"""`artstudio describe`: the caption on stdout, one-line refusals and the exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str):
    return subprocess.run([sys.executable, "main.py", "describe", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def blip(tmp_path_factory):
    from tiny_assists import save_tiny_captioner

    return save_tiny_captioner(tmp_path_factory.mktemp("cap") / "blip")


def test_describe_prints_the_same_caption_as_the_core(blip, tmp_path):
    from artstudio.assists import describe

    picture = tmp_path / "fox.png"
    Image.new("RGB", (40, 30), (220, 90, 10)).save(picture)
    done = _cli(str(picture), "--model", str(blip), "--seed", "3", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    expected = describe.describe(describe.load_captioner(blip), Image.open(picture), 3)
    assert done.stdout.strip() == expected
    tags = _cli(str(picture), "--model", str(blip), "--seed", "3", "--tags", "--device", "cpu")
    assert tags.stdout.strip() == describe.as_tags(expected)


def test_describe_refuses_plainly(blip, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    done = _cli(str(broken), "--model", str(blip), "--device", "cpu")
    assert done.returncode == 1 and "broken.png" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    missing = _cli(str(broken), "--model", str(tmp_path / "nowhere"), "--device", "cpu")
    assert missing.returncode == 2 and "is not a folder" in missing.stderr
