"""`artstudio generate --reference IMAGE[:WEIGHT][:MODEL]`: what it writes,
and exit 2 with one line for every bad input, before any model loads."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from test_control_cli import _status, generate, plain_and_guided
from test_references import look

from artstudio.commands.reference_options import split_value


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "look.png"
    Image.fromarray(look()).save(path)
    return path


@pytest.fixture
def comfy_home(tiny_references, monkeypatch):
    monkeypatch.setenv("HOME", str(tiny_references["home"]))
    return tiny_references


def test_split_value_takes_image_weight_and_model_in_either_order():
    assert split_value("a.png") == ("a.png", 1.0, "")
    assert split_value("a.png:0.5") == ("a.png", 0.5, "")
    assert split_value("a.png:0.5:ip-adapter_sd15") == ("a.png", 0.5, "ip-adapter_sd15")
    assert split_value("a.png:ip-adapter_sd15:0.5") == ("a.png", 0.5, "ip-adapter_sd15")
    assert split_value(r"C:\art\a.png:0.5") == (r"C:\art\a.png", 0.5, "")
    for bad in ("a.png:0.5:0.7", "a.png:x:y", "a.png:", ":0.5"):
        with pytest.raises(ValueError, match="give IMAGE"):
            split_value(bad)


def test_a_reference_from_the_library_guides_the_picture_and_is_written_in_its_parameters(
        tiny, comfy_home, picture, tmp_path):
    plain, pixels, text = plain_and_guided(tiny, tmp_path, "--reference", f"{picture}:0.8")
    assert np.abs(pixels - plain).mean() > 1.0
    assert ('ControlNet 0: "Module: ip-adapter_clip, Model: ip-adapter_tiny_sd15, Weight: 0.8, '
            'Guidance Start: 0, Guidance End: 1"') in text


def test_a_named_adapter_is_used(tiny, comfy_home, picture, tmp_path):
    out = tmp_path / "named.png"
    assert generate(tiny, out, "--reference", f"{picture}:ip-adapter-plus_tiny_sd15") == 0
    with Image.open(out) as made:
        assert "Model: ip-adapter-plus_tiny_sd15, Weight: 1" in made.text["parameters"]


@pytest.mark.parametrize("value, message", [
    ("{missing}", "does not exist"),
    ("{picture}:2.5", "the weight must be between 0 and 2"),
    ("{picture}:{sdxl}", "ip-adapter_tiny_sdxl is an IP-Adapter for models whose text is 72 "
                         "wide; it cannot guide this Stable Diffusion 1.x model"),
    ("{picture}:no-such-adapter", "neither a file nor a name in the adapter folders"),
    ("{picture}:{bin}", ".safetensors only"),
])
def test_bad_references_exit_2_with_one_line(tiny, comfy_home, picture, tmp_path, capsys,
                                             value, message):
    trap = tmp_path / "ip-adapter_sd15.bin"
    trap.write_bytes(b"never read")
    value = value.format(missing=tmp_path / "nope.png", picture=picture, bin=trap,
                         sdxl=comfy_home["sdxl"])
    assert generate(tiny, tmp_path / "out.png", "--reference", value) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "out.png").exists()


def test_a_missing_encoder_and_an_empty_library_exit_2_naming_what_is_needed(
        tiny, tiny_references, picture, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ComfyUI here
    assert generate(tiny, tmp_path / "a.png", "--reference", str(picture)) == 2
    assert "No IP-Adapter for Stable Diffusion 1.x models was found" in capsys.readouterr().err
    adapter = tiny_references["sd1"]
    assert generate(tiny, tmp_path / "b.png", "--reference", f"{picture}:{adapter}") == 2
    err = capsys.readouterr().err
    assert "needs the image encoder" in err and "models/clip_vision" in err


def test_an_ip_adapter_for_flux_and_regions_with_references_exit_2(
        tiny_flux, tiny, comfy_home, picture, tmp_path, capsys):
    flux = ["generate", "--model", tiny_flux["flux-dev"]["diffusers"], "--prompt", "x",
            "--steps", "1", "--width", "64", "--height", "64", "--device", "cpu",
            "--out", tmp_path / "f.png", "--reference", f"{picture}:{comfy_home['sd1']}"]
    assert _status(flux) == 2
    assert "it cannot guide this FLUX.1 model" in capsys.readouterr().err
    mask = tmp_path / "mask.png"
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(mask)
    assert generate(tiny, tmp_path / "r.png", "--reference", str(picture),
                    "--region", f"{mask}:a dog") == 2
    assert "cannot be used together" in capsys.readouterr().err
