"""`artstudio generate` refuses what it cannot do as asked, with exit 2 and one
line, before loading a model; and never damages a file it writes over."""

from __future__ import annotations

import errno

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main


@pytest.fixture(scope="module")
def sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return save_tiny_models(tmp_path_factory.mktemp("models"), kinds=("sd1",))["sd1"]["diffusers"]


def generate(model, out, *extra):
    return main(["generate", "--model", str(model), "--prompt", "a red cat", "--steps", "2",
                 "--seed", "5", "--out", str(out), *extra])


@pytest.mark.parametrize(("extra", "said"), [
    (["--width", "0", "--height", "64"], "Width must be between 8 and 8192 pixels, not 0"),
    (["--width", "-64", "--height", "64"], "not -64"),
    (["--width", "65", "--height", "64"], "--width 65 is not a multiple of 8"),
    (["--width", "100000", "--height", "64"], "Width must be between 8 and 8192"),
    (["--width", "64", "--height", "64", "--cfg", "nan"], "guidance scale (CFG)"),
    (["--width", "64", "--height", "64", "--seed", str(2**32)], "A seed must be between 0"),
])
def test_values_out_of_range_are_refused_not_clamped(sd1, tmp_path, capsys, extra, said):
    out = tmp_path / "out"
    assert generate(sd1, out, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_an_out_name_that_cannot_be_kept_is_refused(sd1, tmp_path, capsys):
    size = ["--width", "64", "--height", "64"]
    assert generate(sd1, tmp_path / "o.jpg", *size) == 2
    assert "generate writes PNG" in capsys.readouterr().err
    assert generate(sd1, tmp_path / "x.png", *size, "--count", "3") == 2
    assert "give a folder" in capsys.readouterr().err
    assert not (tmp_path / "o.jpg").exists() and not (tmp_path / "x.png").exists()


def test_an_existing_png_is_kept_unless_overwrite(sd1, tmp_path, capsys):
    out = tmp_path / "keep.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out)
    before = out.read_bytes()
    assert generate(sd1, out, "--width", "64", "--height", "64") == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert generate(sd1, out, "--width", "64", "--height", "64", "--overwrite") == 0
    with Image.open(out) as image:
        assert image.size == (64, 64) and "Seed: 5" in image.info["parameters"]


def test_an_unusable_model_is_a_bad_argument(tmp_path, capsys):
    junk = tmp_path / "notes.safetensors"
    junk.write_bytes(b"\x00" * 64)
    assert generate(junk, tmp_path / "o.png", "--width", "64", "--height", "64") == 2
    assert "notes.safetensors is not a model generate can use" in capsys.readouterr().err


class _FailingImage:
    """Writes part of a PNG, then the disk is full."""

    def save(self, target, **_kwargs):
        stream = open(target, "wb") if isinstance(target, str | bytes) or hasattr(  # noqa: SIM115
            target, "__fspath__") else target
        stream.write(b"\x89PNG partial")
        stream.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_png_write_leaves_the_old_file_and_no_new_one(tmp_path):
    from artstudio.diffusion.metadata import save_png
    from artstudio.engine.errors import UserFacingError

    old = tmp_path / "old.png"
    Image.fromarray(np.full((4, 4, 3), 200, np.uint8)).save(old)
    before = old.read_bytes()
    with pytest.raises(UserFacingError, match="the disk is full"):
        save_png(_FailingImage(), old, {"prompt": "x"})
    assert old.read_bytes() == before
    with pytest.raises(UserFacingError, match="the disk is full"):
        save_png(_FailingImage(), tmp_path / "new.png", {"prompt": "x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]
