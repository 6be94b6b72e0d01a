"""`artstudio export` and `artstudio generate`, run as a user would."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.jpg"
    pixels = np.zeros((40, 64, 3), np.uint8)
    pixels[:, :, 1] = 180
    Image.fromarray(pixels).save(path, quality=95)
    return path


def test_export_image_to_ora_and_back(photo, tmp_path, capsys):
    ora = tmp_path / "doc.ora"
    assert main(["export", str(photo), str(ora)]) == 0
    with zipfile.ZipFile(ora) as archive:
        assert archive.namelist()[0] == "mimetype"
        assert "stack.xml" in archive.namelist()
    png = tmp_path / "flat.png"
    assert main(["export", str(ora), str(png)]) == 0
    with Image.open(png) as image:
        assert image.size == (64, 40)
        assert abs(int(np.asarray(image.convert("RGB"))[20, 30, 1]) - 180) <= 3


def test_export_jpeg_with_quality(photo, tmp_path):
    small = tmp_path / "low.jpg"
    large = tmp_path / "high.jpg"
    assert main(["export", str(photo), str(small), "--quality", "10"]) == 0
    assert main(["export", str(photo), str(large), "--quality", "98"]) == 0
    assert small.stat().st_size < large.stat().st_size


def test_export_failure_is_one_line_and_nonzero(tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    assert main(["export", str(broken), str(tmp_path / "out.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "broken.png" in err
    assert not (tmp_path / "out.png").exists()


def test_export_unknown_output_type(photo, tmp_path, capsys):
    assert main(["export", str(photo), str(tmp_path / "out.gif")]) == 2  # a bad argument
    assert "out.gif" in capsys.readouterr().err


def test_export_bomb_is_refused(tmp_path, capsys):
    big = tmp_path / "big.png"
    Image.new("RGB", (2000, 1000)).save(big)
    assert main(["export", str(big), str(tmp_path / "o.png"), "--max-megapixels", "1"]) == 1
    assert "big.png" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return save_tiny_models(tmp_path_factory.mktemp("models"), kinds=("sd1",))["sd1"]


def test_generate_writes_pngs_with_parameters(tiny_sd1, tmp_path, capsys):
    from artstudio.diffusion.metadata import read_settings

    out = tmp_path / "renders"
    code = main(["generate", "--model", str(tiny_sd1["single"]), "--prompt", "a red fox",
                 "--steps", "2", "--width", "64", "--height", "64", "--seed", "7",
                 "--count", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    written = sorted(out.glob("*.png"))
    assert [p.name for p in written] == ["7.png", "8.png"]
    assert capsys.readouterr().out.split() == [str(p) for p in written]
    with Image.open(written[0]) as image:
        assert image.size == (64, 64)
        assert "Steps: 2" in image.info["parameters"]
    settings = read_settings(written[0])
    assert settings["prompt"] == "a red fox" and settings["seed"] == 7


def test_generate_inpaint_keeps_unmasked_pixels(tiny_sd1, tmp_path, photo):
    init = tmp_path / "init.png"
    Image.open(photo).resize((64, 64)).save(init)
    mask = tmp_path / "mask.png"
    m = np.zeros((64, 64), np.uint8)
    m[16:48, 16:48] = 255
    Image.fromarray(m).save(mask)
    out = tmp_path / "inpainted.png"
    assert main(["generate", "--model", str(tiny_sd1["diffusers"]), "--prompt", "a window",
                 "--steps", "2", "--init", str(init), "--mask", str(mask), "--seed", "1",
                 "--out", str(out)]) == 0
    before = np.asarray(Image.open(init).convert("RGB"))
    after = np.asarray(Image.open(out).convert("RGB"))
    assert np.array_equal(before[m == 0], after[m == 0])  # every pixel outside the mask
    assert not np.array_equal(before[m == 255], after[m == 255])


def test_generate_bad_model_and_missing_init(tmp_path, capsys):
    not_model = tmp_path / "notes.safetensors"
    not_model.write_bytes(b"\x00" * 64)
    assert main(["generate", "--model", str(not_model), "--prompt", "x", "--steps", "2",
                 "--width", "64", "--height", "64", "--out", str(tmp_path)]) == 2  # unusable
    assert "notes.safetensors" in capsys.readouterr().err
    assert main(["generate", "--model", str(not_model), "--prompt", "x",
                 "--mask", str(not_model)]) == 2
    assert "--init" in capsys.readouterr().err


def test_generate_with_a_repo_id_that_is_not_downloaded(tmp_path, capsys):
    assert main(["generate", "--model", "someone/not-downloaded", "--prompt", "x"]) == 2
    assert "artstudio download someone/not-downloaded" in capsys.readouterr().err


def test_download_failure_is_one_line(monkeypatch, capsys):
    import huggingface_hub
    from huggingface_hub.errors import RepositoryNotFoundError

    def missing(*args, **kwargs):
        raise RepositoryNotFoundError.__new__(RepositoryNotFoundError)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", missing)
    assert main(["download", "someone/no-such-model"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("artstudio download: someone/no-such-model was not found on Hugging "
                       "Face (or it is private).")
