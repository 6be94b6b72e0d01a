"""`artstudio generate` with FLUX.1: the family's defaults, --guidance for
distilled guidance, and --mode edit for Kontext."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main


def _init(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (48, 80, 3), np.uint8)).save(path)
    return path


def test_edit_writes_the_edited_picture_at_its_size(tiny_flux, tmp_path, capsys):
    out = tmp_path / "night.png"
    code = main(["generate", "--model", str(tiny_flux["flux-kontext"]["single"]), "--mode",
                 "edit", "--init", str(_init(tmp_path)), "--prompt", "make it night",
                 "--guidance", "2.5", "--steps", "2", "--seed", "3", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    from artstudio.diffusion.metadata import read_settings

    with Image.open(out) as image:
        assert image.size == (80, 48)
    settings = read_settings(out)
    assert settings["cfg_scale"] == 2.5 and settings["steps"] == 2


def test_flux_defaults_come_from_the_family(tiny_flux, tmp_path, monkeypatch):
    import artstudio.diffusion.generate as generation

    made = []
    monkeypatch.setattr(generation, "generate_to_files",
                        lambda params, out, progress, **_: made.append(params) or [])
    assert main(["generate", "--model", str(tiny_flux["flux-schnell"]["diffusers"]),
                 "--prompt", "x", "--width", "64", "--height", "64"]) == 0
    assert main(["generate", "--model", str(tiny_flux["flux-dev"]["diffusers"]),
                 "--prompt", "x", "--width", "64", "--height", "64"]) == 0
    schnell, dev = made
    assert (schnell.steps, schnell.cfg_scale, schnell.scheduler) == (4, 0.0, "flow_euler")
    assert (dev.steps, dev.cfg_scale) == (28, 3.5)


@pytest.mark.parametrize(("model", "extra", "message"), [
    ("sd1", ["--guidance", "3"], "--guidance is for distilled"),
    ("flux-dev", ["--cfg", "3"], "use --guidance"),
    ("flux-dev", ["--mode", "edit", "--init", "INIT"], "needs FLUX.1 Kontext"),
    ("flux-kontext", ["--mode", "edit"], "--mode edit takes --init"),
    ("flux-dev", ["--width", "72"], "not a multiple of 16"),
    ("flux-dev", ["--mode", "inpaint", "--init", "INIT"], "--mode inpaint needs"),
])
def test_refusals_exit_2_before_any_work(tiny, tiny_flux, tmp_path, capsys, model, extra,
                                         message):
    path = tiny[model]["diffusers"] if model in tiny else tiny_flux[model]["diffusers"]
    init = str(_init(tmp_path))
    extra = [init if e == "INIT" else e for e in extra]
    code = main(["generate", "--model", str(path), "--prompt", "make it night",
                 "--out", str(tmp_path / "o.png"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()
