"""`artstudio generate --control ...` and `artstudio control-preview`: what
they write, and exit 2 with one line for every bad input, before any work."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main
from artstudio.commands.control_options import split_value


def _status(argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exit_:
        return int(exit_.code)


@pytest.fixture
def sketch(tmp_path):
    img = np.full((64, 64, 3), 255, np.uint8)
    cv2.rectangle(img, (16, 16), (48, 48), (0, 0, 0), 3)
    path = tmp_path / "sketch.png"
    Image.fromarray(img).save(path)
    return path


@pytest.fixture
def webui_home(tiny_controlnets, monkeypatch):
    """HOME holding an A1111 install whose models/ControlNet has the tiny ControlNets."""
    monkeypatch.setenv("HOME", str(tiny_controlnets["root"].parents[2]))


def generate(tiny, out, *extra):
    return _status(["generate", "--model", tiny["sd1"]["diffusers"], "--prompt", "a red cat",
                    "--steps", "2", "--seed", "5", "--width", "64", "--height", "64",
                    "--device", "cpu", "--out", out, *extra])


def plain_and_guided(tiny, folder, *extra):
    """Pixels of a plain run and of one with `extra` arguments, and the
    guided PNG's parameters text."""
    assert generate(tiny, folder / "plain.png") == 0
    assert generate(tiny, folder / "guided.png", *extra) == 0
    plain = np.asarray(Image.open(folder / "plain.png")).astype(int)
    with Image.open(folder / "guided.png") as guided:
        return plain, np.asarray(guided).astype(int), guided.text["parameters"]


def test_a_control_guides_the_picture_and_is_written_in_its_parameters(
        tiny, tiny_controlnets, sketch, tmp_path, capsys):
    net = tiny_controlnets["sd1-canny"]["single"]
    plain, pixels, text = plain_and_guided(tiny, tmp_path, "--control",
                                           f"canny:{sketch}:{net}:0.7")
    assert np.abs(pixels - plain).mean() > 1.0
    assert ('ControlNet 0: "Module: canny, Model: control_tiny_sd15_canny, Weight: 0.7, '
            'Guidance Start: 0, Guidance End: 1"') in text


def test_the_controlnet_is_picked_from_the_library_by_kind_and_family(
        tiny, webui_home, sketch, tmp_path, capsys):
    out = tmp_path / "picked.png"
    assert generate(tiny, out, "--control", f"depth:{sketch}", "--no-control-preprocess") == 0
    with Image.open(out) as made:
        assert 'ControlNet 0: "Module: none, Model: control_tiny_sd15_depth' in \
            made.text["parameters"]


@pytest.mark.parametrize(("control", "said"), [
    ("canny", "give KIND:IMAGE"),
    ("sparkles:{sketch}", "Unknown control kind 'sparkles'"),
    ("canny:{tmp}/nowhere.png", "nowhere.png does not exist"),
    ("canny:{sketch}:{sd15}:5", "the strength must be between 0 and 2, not 5.0"),
    ("canny:{sketch}:{sdxl}", "control_tiny_sdxl_canny is a ControlNet for Stable Diffusion XL "
                              "models; it cannot guide this Stable Diffusion 1.x model."),
    ("lineart:{sketch}", "No lineart ControlNet for Stable Diffusion 1.x models was found"),
    ("canny:{sketch}:{sketch}", "sketch.png is not a ControlNet"),
    ("canny:{sketch}:no-such-controlnet", "The ControlNet “no-such-controlnet” is neither"),
    ("depth:{sketch}:{sd15}", "needs a depth-estimation model folder"),
])
def test_bad_controls_exit_2_with_one_line_before_any_work(tiny, tiny_controlnets, webui_home,
                                                          sketch, tmp_path, capsys, control,
                                                          said):
    value = control.format(sketch=sketch, tmp=tmp_path,
                           sd15=tiny_controlnets["sd1-depth"]["diffusers"],
                           sdxl=tiny_controlnets["sdxl-canny"]["diffusers"])
    out = tmp_path / "out"
    assert generate(tiny, out, "--control", value) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_control_values_split_with_windows_paths():
    assert split_value("canny:sketch.png") == ("canny", "sketch.png", "", 1.0)
    assert split_value("canny:sketch.png:0.5") == ("canny", "sketch.png", "", 0.5)
    assert split_value(r"canny:C:\art\sketch.png:D:\cn\canny.safetensors:0.5") == (
        "canny", r"C:\art\sketch.png", r"D:\cn\canny.safetensors", 0.5)
    assert split_value("depth:a.png:control_v11f1p_sd15_depth") == (
        "depth", "a.png", "control_v11f1p_sd15_depth", 1.0)


def test_control_preview_writes_the_control_image(sketch, tmp_path, capsys):
    out = tmp_path / "edges.png"
    assert _status(["control-preview", "canny", sketch, out]) == 0
    edges = np.asarray(Image.open(out))
    assert edges.shape == (64, 64, 3) and edges[12:21, 20:44].max() == 255
    assert edges[30:34, 30:34].max() == 0  # the flat inside of the square
    assert capsys.readouterr().out.strip() == str(out)


@pytest.mark.parametrize(("argv", "status", "said"), [
    (["sparkles", "{sketch}", "{tmp}/o.png"], 2, "Unknown control kind"),
    (["canny", "{tmp}/missing.png", "{tmp}/o.png"], 2, "missing.png does not exist"),
    (["canny", "{sketch}", "{sketch}"], 2, "sketch.png already exists"),
    (["canny", "{sketch}", "{tmp}/o.jpg"], 2, "name it .png"),
    (["depth", "{sketch}", "{tmp}/o.png"], 2, "needs a depth-estimation model folder"),
    (["canny", "{broken}", "{tmp}/o.png"], 1, "broken.png"),
])
def test_control_preview_refusals(sketch, tmp_path, capsys, argv, status, said):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n and nothing more")
    argv = [a.format(sketch=sketch, tmp=tmp_path, broken=broken) for a in argv]
    assert _status(["control-preview", *argv]) == status
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "o.png").exists()


@pytest.fixture
def left_mask(tmp_path):
    mask = np.zeros((64, 64), np.uint8)
    mask[:, :32] = 255
    path = tmp_path / "left.png"
    Image.fromarray(mask, "L").save(path)
    return path


def test_a_region_paints_its_prompt_and_is_recorded(tiny, left_mask, tmp_path):
    import json

    assert generate(tiny, tmp_path / "plain.png") == 0
    out = tmp_path / "regions.png"
    assert generate(tiny, out, "--region", f"{left_mask}:a stone wall: grey, wet") == 0
    plain = np.asarray(Image.open(tmp_path / "plain.png")).astype(int)
    with Image.open(out) as made:
        meta = json.loads(made.text["artstudio"])
        change = np.abs(np.asarray(made).astype(int) - plain).mean(axis=2)
    assert meta["regions"] == [{"prompt": "a stone wall: grey, wet", "area": 0.5}]
    assert change[:, :28].mean() > change[:, 36:].mean()


@pytest.mark.parametrize(("region", "said"), [
    ("{empty}:a wall", "the mask is empty"),
    ("{tmp}/nowhere.png:a wall", "nowhere.png does not exist"),
    ("{left}", "give MASK:PROMPT"),
    ("{left}:  ", "give MASK:PROMPT"),
])
def test_bad_regions_exit_2_with_one_line(tiny, left_mask, tmp_path, capsys, region, said):
    empty = tmp_path / "empty.png"
    Image.new("L", (64, 64), 0).save(empty)
    out = tmp_path / "out"
    assert generate(tiny, out, "--region", region.format(empty=empty, tmp=tmp_path,
                                                         left=left_mask)) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1, err
    assert not out.exists()
