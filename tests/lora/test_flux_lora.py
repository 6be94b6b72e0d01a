"""A FLUX.1 LoRA in diffusers layout (keys `transformer.*.lora_A/B`) goes
through the same generate() path as an SD one: recognised as FLUX's, weight 1
changes the picture, weight 0 and the next plain request are the base model."""

from __future__ import annotations

from copy import deepcopy

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
    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model
    from safetensors.torch import save_file

    folder = tiny_flux["flux-dev"]["diffusers"]
    transformer = get_model(str(folder)).pipe.transformer
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v"],
                        init_lora_weights=False)
    copy = inject_adapter_in_model(config, deepcopy(transformer), adapter_name="make")
    with torch.no_grad():
        for name, p in copy.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # visible at weight 1 on random weights
    state = {f"transformer.{k}": v.detach().clone().contiguous()
             for k, v in get_peft_model_state_dict(copy, adapter_name="make").items()}
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
