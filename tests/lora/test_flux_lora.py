"""A FLUX.1 LoRA in diffusers layout (keys `transformer.*.lora_A/B`) goes
through the same generate() path as an SD one: recognised as FLUX's, weight 1
changes the picture, weight 0 and the next plain request are the base model."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.diffusion.generate import run
from artstudio.diffusion.loading import get_model
from artstudio.diffusion.loras import identify_lora
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import CancelToken


@pytest.fixture(scope="module")
def flux_lora(tiny_flux, tmp_path_factory):
    import torch
    from safetensors.torch import save_file
    from tiny_assists import random_lora_layers

    folder = tiny_flux["flux-dev"]["diffusers"]
    transformer = get_model(str(folder)).pipe.transformer
    torch.manual_seed(0)
    state = random_lora_layers(transformer, "transformer", ["to_q", "to_k", "to_v"])
    path = tmp_path_factory.mktemp("flux-lora") / "tiny-flux-lora.safetensors"
    save_file(state, str(path))
    return folder, path


def _pixels(folder, **kw) -> np.ndarray:
    p = GenerationParams(model=str(folder), prompt="a red cat", steps=2, width=64, height=64,
                         cfg_scale=3.5, seed=3, scheduler="flow_euler", preview_every=0, **kw)
    return np.asarray(run(p, lambda *a, **k: None, CancelToken()).images[0]).astype(int)


def test_a_flux_lora_changes_the_picture_and_weight_zero_is_the_base(flux_lora):
    folder, path = flux_lora
    assert identify_lora(path).family == "flux"
    base = _pixels(folder)
    with_lora = _pixels(folder, loras=((str(path), 1.0),))
    at_zero = _pixels(folder, loras=((str(path), 0.0),))
    assert np.abs(with_lora - base).mean() > 0.5
    assert np.abs(at_zero - base).max() <= 1
    assert np.abs(_pixels(folder) - base).max() <= 1  # switched off again without it
