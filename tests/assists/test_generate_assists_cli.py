"""`artstudio generate` with the assists: --tileable, --best K, --expand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from artstudio.cli import main


@pytest.fixture(scope="module")
def sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return str(save_tiny_models(tmp_path_factory.mktemp("models"), kinds=("sd1",))["sd1"]
               ["diffusers"])


def _generate(model: str, out, *extra: str) -> int:
    return main(["generate", "--model", model, "--prompt", "a red fox", "--steps", "2",
                 "--width", "64", "--height", "64", "--seed", "3", "--device", "cpu",
                 "--out", str(out), *extra])


def _png(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")), dict(image.text)


def test_tileable_from_the_command_line(sd1, tmp_path, capsys, no_progress, token):
    from artstudio.diffusion.generate import run
    from artstudio.diffusion.params import GenerationParams

    assert _generate(sd1, tmp_path / "tiled.png", "--tileable") == 0, capsys.readouterr().err
    pixels, text = _png(tmp_path / "tiled.png")
    assert json.loads(text["artstudio"])["tileable"] is True
    assert "Tiling: True" in text["parameters"]
    p = GenerationParams(model=sd1, prompt="a red fox", steps=2, width=64, height=64, seed=3,
                         device="cpu", tileable=True)
    assert np.array_equal(pixels, np.asarray(run(p, no_progress, token).images[0]))


def test_tileable_is_refused_for_a_transformer_model(tmp_path, capsys):
    from tiny_pipelines import save_tiny_flux

    flux = save_tiny_flux(tmp_path / "m", ("flux-schnell",))["flux-schnell"]["diffusers"]
    assert _generate(str(flux), tmp_path / "out.png", "--tileable") == 2
    err = capsys.readouterr().err.strip()
    assert "--tileable" in err and "UNet" in err and err.count("\n") == 0
    assert not (tmp_path / "out.png").exists()
