"""`artstudio upscale`: one image, a folder (resumable, with a report), refusals."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main
from artstudio.selftest.random_models import save_random_compact


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_random_compact(tmp_path_factory.mktemp("m") / "compact-x2.pth")


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    Image.new("RGB", (30, 20), (200, 10, 10)).save(src / "a.png")
    Image.new("RGBA", (16, 24), (10, 200, 10, 128)).save(src / "sub" / "b.png")
    (src / "broken.png").write_bytes(b"nope")
    return src


def test_one_image_at_a_fractional_scale(model, folder, tmp_path):
    out = tmp_path / "big.png"
    assert main(["upscale", str(folder / "a.png"), str(out), "--model", str(model),
                 "--scale", "1.5"]) == 0
    with Image.open(out) as image:
        assert image.size == (45, 30)


def test_folder_keeps_structure_reports_failures_and_resumes(model, folder, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.json"
    code = main(["upscale", str(folder), str(out), "--model", str(model), "--recursive",
                 "--report", str(report)])
    assert code == 1  # broken.png failed
    with Image.open(out / "sub" / "b.png") as image:
        assert image.size == (32, 48) and image.mode == "RGBA"
        assert abs(np.asarray(image)[..., 3].mean() - 128) < 8
    data = json.loads(report.read_text())
    assert any("broken.png" in json.dumps(item) for item in data["failed"])
    stamp = (out / "a.png").stat().st_mtime_ns
    assert main(["upscale", str(folder), str(out), "--model", str(model), "--recursive"]) == 1
    assert (out / "a.png").stat().st_mtime_ns == stamp  # resumed: not redone


def test_lanczos_without_model(folder, tmp_path):
    out = tmp_path / "lz"
    assert main(["upscale", str(folder / "a.png"), str(out), "--scale", "3",
                 "--model", "lanczos"]) == 0
    with Image.open(out / "a.png") as image:
        assert image.size == (90, 60)


def test_unsafe_or_wrong_models_are_refused(folder, tmp_path, capsys):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"w": Payload()}))
    assert main(["upscale", str(folder), str(tmp_path / "o"), "--model", str(evil)]) == 2
    assert not marker.exists()
    assert "evil.pth" in capsys.readouterr().err
    assert main(["upscale", str(folder), str(tmp_path / "o"), "--model",
                 str(tmp_path / "missing.pth")]) == 2
    assert main(["upscale", str(folder), str(tmp_path / "o"), "--scale", "0"]) == 2


def test_builtin_model_is_the_default(folder, tmp_path):
    out = tmp_path / "b"
    assert main(["upscale", str(folder / "a.png"), str(out)]) == 0
    with Image.open(out / "a.png") as image:
        assert image.size == (60, 40) and image.mode == "RGB"
    assert main(["upscale", str(folder / "a.png"), str(tmp_path / "b4"), "--model", "builtin",
                 "--scale", "4"]) == 0
    with Image.open(tmp_path / "b4" / "a.png") as image:
        assert image.size == (120, 80)


def test_missing_builtin_model_is_explained(folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARTSTUDIO_BUILTIN_MODELS", str(tmp_path / "nowhere"))
    assert main(["upscale", str(folder), str(tmp_path / "o")]) == 2
    assert "built-in 2x upscaler is missing" in capsys.readouterr().err


def test_stable_diffusion_x4_folder_with_a_prompt(folder, tmp_path):
    from tiny_pipelines import save_tiny_x4_upscaler

    sd = save_tiny_x4_upscaler(tmp_path / "models" / "x4")
    out = tmp_path / "sd.png"
    assert main(["upscale", str(folder / "a.png"), str(out), "--model", str(sd), "--prompt",
                 "a red square", "--steps", "1", "--device", "cpu"]) == 0
    with Image.open(out) as image:
        assert image.size == (120, 80)
    # Out of the model's range: refused once, before any image is started.
    assert main(["upscale", str(folder), str(tmp_path / "o"), "--model", str(sd),
                 "--noise-level", "500", "--device", "cpu"]) == 2
    assert not (tmp_path / "o").exists()
