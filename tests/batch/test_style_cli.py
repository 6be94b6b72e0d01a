"""`artstudio style` end to end through its main(): exit codes, outputs,
reports, resume and argument errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from artstudio.commands.style import main
from artstudio.selftest.random_models import save_random_generator


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "sub/b c.jpg"):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(src / name)
    return src


def test_folder_blend_with_report(folder, tmp_path, capsys):
    out = tmp_path / "out"
    (folder / "broken.jpg").write_bytes(b"nope")
    code = main([str(folder), str(out), "--style", "3:0.7,lilac:0.3", "--recursive",
                 "--format", "webp", "--report", str(tmp_path / "r.json")])
    assert code == 1  # one file failed
    assert (out / "a.webp").is_file() and (out / "sub" / "b c.webp").is_file()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["written"] == 2 and report["failed"][0]["file"].endswith("broken.jpg")
    err = capsys.readouterr().err
    assert "3/3" in err and "img/s" in err and "ETA" in err  # the progress line
    assert "1 failed" in err and "broken.jpg" in err


def test_resume_then_overwrite(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(folder), str(out), "--style", "frost", "-r"]) == 0
    assert main([str(folder), str(out), "--style", "frost", "-r"]) == 0
    assert "2 already done" in capsys.readouterr().err
    assert main([str(folder), str(out), "--style", "frost", "-r", "--overwrite"]) == 0
    assert "2 written" in capsys.readouterr().err


def test_single_file_to_file_and_folder(folder, tmp_path):
    target = tmp_path / "one.jpg"
    assert main([str(folder / "a.png"), str(target), "--style", "2",
                 "--strength", "0.5", "--preserve-color", "--max-size", "40"]) == 0
    assert Image.open(target).format == "JPEG" and Image.open(target).size == (64, 48)
    assert main([str(folder / "a.png"), str(tmp_path / "dir"), "--style", "2"]) == 0
    assert (tmp_path / "dir" / "a.png").is_file()


def test_painting_and_cyclegan_sources(folder, tmp_path):
    painting = folder / "a.png"
    gan = tmp_path / "net_G.pth"
    save_random_generator(gan, n_blocks=6, ngf=4)
    assert main([str(folder / "sub"), str(tmp_path / "p"),
                 "--style-image", f"{painting}@0.6", "--style-image", str(painting)]) == 0
    assert main([str(folder / "sub"), str(tmp_path / "g"), "--cyclegan", str(gan),
                 "--device", "cpu"]) == 0
    assert (tmp_path / "g" / "b c.png").is_file()


@pytest.mark.parametrize("args", [
    ["--style", "99"],
    ["--style", "nope"],
    ["--strength", "2", "--style", "1"],
    ["--style-image", "missing.png"],
    ["--cyclegan", "missing.pth"],
    ["--quality", "0"],
])
def test_bad_arguments_exit_2(folder, tmp_path, args, capsys):
    assert main([str(folder), str(tmp_path / "o"), *args]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("weight", ["nan", "inf", "-1"])
def test_painting_weights_must_be_finite_and_not_negative(folder, tmp_path, capsys, weight):
    painting = next(folder.glob("*.png"))
    out = tmp_path / "o"
    assert main([str(folder), str(out), "--style-image", f"{painting}@{weight}"]) == 2
    assert "finite, non-negative weight" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_output_inside_input_and_unsafe_model_exit_2(folder, tmp_path, capsys):
    assert main([str(folder), str(folder / "out"), "--style", "1"]) == 2
    evil = tmp_path / "evil.pth"
    evil.write_bytes(b"\x80\x04cos\nsystem\n(S'true'\ntR.")
    assert main([str(folder), str(tmp_path / "o"), "--cyclegan", str(evil)]) == 2
    err = capsys.readouterr().err
    assert "inside the input folder" in err and "evil.pth" in err


def test_list_styles_and_conflicting_sources(capsys):
    assert main(["--list-styles"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 26 and listing[3].split() == ["3", "electric"]
    with pytest.raises(SystemExit) as exit_:
        main(["a", "b", "--style", "1", "--cyclegan", "x.pth"])
    assert exit_.value.code == 2
