"""Resuming keys on the settings that made an output: a style batch run
again into the same folder with another style refuses (exit 2, naming what
differs) unless --overwrite or --resume-anyway; each PNG says how it was made."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from artstudio.batch import plan_batch
from artstudio.batch.pipeline import BatchSettings
from artstudio.batch.recipe import TEXT_KEY, differences, recipe_of
from artstudio.batch.resume import (
    SETTINGS_NAME,
    OtherSettings,
    begin_run,
    check_resume,
    fresh_subfolder,
)
from artstudio.commands.style import main as style_main
from artstudio.style.transfer import StyleOptions
from artstudio.upscale.upscaling import UpscaleOptions


def upscale(argv):
    import argparse

    from artstudio.commands import upscale as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv))


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(src / f"{i}.png")
    return src


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_other_style_refuses_before_any_work(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert style_main([str(folder), str(out), "--style", "frost"]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    capsys.readouterr()
    code = style_main([str(folder), str(out), "--style", "lilac", "--strength", "0.5"])
    err = capsys.readouterr().err
    assert code == 2
    assert "3 of the 3 existing output(s)" in err and "other settings" in err
    assert "strength: 1 -> 0.5" in err and "style weights:" in err
    assert "--overwrite" in err and "--resume-anyway" in err
    assert "written" not in err  # nothing ran
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == before


def test_same_settings_resume_and_overwrite_redoes_with_the_new_style(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert style_main([str(folder), str(out), "--style", "frost"]) == 0
    frost = pixels(out / "0.png")
    (out / "2.png").unlink()  # an interrupted run: one output missing
    capsys.readouterr()
    assert style_main([str(folder), str(out), "--style", "frost"]) == 0
    assert "1 written, 2 already done" in capsys.readouterr().err
    assert style_main([str(folder), str(out), "--style", "lilac", "--overwrite"]) == 0
    assert "3 written" in capsys.readouterr().err
    lilac = pixels(out / "0.png")
    assert np.abs(lilac.astype(int) - frost).max() > 10  # really redone with the new style
    # and the new style now resumes without complaint
    assert style_main([str(folder), str(out), "--style", "lilac"]) == 0
    assert "3 already done" in capsys.readouterr().err


def test_resume_anyway_keeps_old_outputs_and_does_the_missing(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert style_main([str(folder), str(out), "--style", "frost"]) == 0
    frost = pixels(out / "0.png")
    (out / "2.png").unlink()
    capsys.readouterr()
    assert style_main([str(folder), str(out), "--style", "lilac", "--resume-anyway"]) == 0
    assert "1 written, 2 already done" in capsys.readouterr().err
    assert (pixels(out / "0.png") == frost).all()
    made = {p.name: json.loads(Image.open(p).text[TEXT_KEY])["what"].split()[-1]
            for p in out.glob("*.png")}
    assert made == {"0.png": "frost", "1.png": "frost", "2.png": "lilac"}
    # The folder is mixed now: frost again is refused for the lilac one, lilac for the others.
    assert style_main([str(folder), str(out), "--style", "frost"]) == 2
    assert "1 of the 3 existing" in capsys.readouterr().err


def test_overwrite_and_resume_anyway_cannot_be_combined(folder, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        style_main([str(folder), str(tmp_path / "o"), "--overwrite", "--resume-anyway"])
    assert exit_info.value.code == 2


def test_each_png_carries_what_made_it(folder, tmp_path):
    out = tmp_path / "out"
    assert style_main([str(folder), str(out), "--style", "3:0.7,lilac:0.3",
                       "--strength", "0.8"]) == 0
    image = Image.open(out / "1.png")
    assert image.text["Software"] == "Artstudio"
    recipe = json.loads(image.text[TEXT_KEY])
    assert recipe["kind"] == "style" and recipe["settings"]["strength"] == 0.8
    weights = recipe["settings"]["style_weights"]
    assert weights[3] == pytest.approx(0.7) and sum(weights) == pytest.approx(1)
    assert "device" not in recipe["settings"]  # where it ran does not change the pixels
    assert (out / SETTINGS_NAME).is_file()


def test_a_painting_is_known_by_its_content_not_its_name(folder, tmp_path, capsys):
    out = tmp_path / "out"
    painting = tmp_path / "painting.png"
    Image.fromarray(np.full((32, 32, 3), (200, 40, 20), np.uint8)).save(painting)
    assert style_main([str(folder), str(out), "--style-image", str(painting)]) == 0
    recipe = json.loads(Image.open(out / "0.png").text[TEXT_KEY])
    assert recipe["settings"]["style_images"][0]["file"] == "painting.png"
    moved = tmp_path / "moved.png"
    painting.rename(moved)
    assert style_main([str(folder), str(out), "--style-image", str(moved)]) == 0  # same file
    Image.fromarray(np.full((32, 32, 3), (20, 40, 200), np.uint8)).save(moved)
    capsys.readouterr()
    assert style_main([str(folder), str(out), "--style-image", str(moved)]) == 2
    assert "style images: [moved.png] -> [moved.png] with other contents" in \
        capsys.readouterr().err


def test_upscale_scale_and_model_are_settings(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert upscale([str(folder), str(out), "--model", "lanczos", "--scale", "2"]) == 0
    assert Image.open(out / "0.png").size == (64, 48)
    assert json.loads(Image.open(out / "0.png").text[TEXT_KEY])["settings"]["scale"] == 2
    capsys.readouterr()
    assert upscale([str(folder), str(out), "--model", "lanczos", "--scale", "3"]) == 2
    assert "scale: 2 -> 3" in capsys.readouterr().err
    assert Image.open(out / "0.png").size == (64, 48)


def test_streamed_png_carries_the_recipe(tmp_path):
    from artstudio.batch.png_rows import write_png_rows

    rows = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    with open(tmp_path / "s.png", "wb") as fh:
        write_png_rows(fh, 5, 4, 3, [rows[:2], rows[2:]], text={TEXT_KEY: '{"a": "é"}'})
    image = Image.open(tmp_path / "s.png")
    assert image.text[TEXT_KEY] == '{"a": "é"}'
    assert (np.asarray(image) == rows).all()


def test_jpeg_quality_is_a_setting_png_level_is_not():
    options = StyleOptions.builtin("frost")
    png = recipe_of("style", options, "png", 92)
    assert recipe_of("style", options, "png", 50) == png
    assert differences(recipe_of("style", options, "jpg", 92),
                       recipe_of("style", options, "jpg", 80)) == ["quality: 92 -> 80"]
    assert differences(png, recipe_of("upscale", UpscaleOptions(scale=2), "png", 92))[0] == \
        "kind: style -> upscale"


def test_core_check_and_fresh_subfolder(folder, tmp_path):
    out = tmp_path / "out"
    plan = plan_batch(folder, out)
    frost = recipe_of("style", StyleOptions.builtin("frost"), "png", 92, "style frost")
    lilac = recipe_of("style", StyleOptions.builtin("lilac"), "png", 92, "style lilac")
    check = check_resume(out, plan.items, frost)
    assert not check.conflict and check.existing == 0
    begin_run(check, plan.items, OtherSettings.REFUSE, BatchSettings())
    for item in plan.items:  # as if the run wrote them
        item.target.write_bytes(b"x")
    assert not check_resume(out, plan.items, frost).conflict
    other = check_resume(out, plan.items, lilac)
    assert other.conflict and len(other.other) == 3
    assert any(line.startswith("style weights:") for line in other.differences)
    sub = fresh_subfolder(out, lilac)
    assert sub == out / "style-lilac" and not sub.exists()
    sub.mkdir()
    assert fresh_subfolder(out, lilac) == out / "style-lilac-2"
    # in the new subfolder nothing conflicts
    assert not check_resume(sub, plan_batch(folder, sub).items, lilac).conflict


def test_a_single_file_carries_its_recipe_without_a_record(folder, tmp_path):
    target = tmp_path / "one.png"
    assert style_main([str(folder / "0.png"), str(target), "--style", "lilac"]) == 0
    assert json.loads(Image.open(target).text[TEXT_KEY])["what"].endswith("lilac")
    assert not (tmp_path / SETTINGS_NAME).exists()
