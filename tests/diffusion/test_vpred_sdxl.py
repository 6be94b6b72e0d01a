"""Illustrious / NoobAI-style SDXL checkpoints: noise and velocity prediction
told apart from the file, and a v-prediction model loads with the schedule it
was trained on."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from artstudio.diffusion.loading import load_model, resolve_variant
from artstudio.model_files.identify import identify


def _copy(tiny, tmp_path, name: str, marker: bool):
    """The tiny SDXL single file under another name, with NoobAI's marker keys
    or without, and its config folder beside it for the tiny shapes (its
    scheduler silent on the prediction type, so the file decides)."""
    source = tiny["sdxl-base"]["single"]
    target = tmp_path / f"{name}.safetensors"
    state = load_file(str(source))
    if marker:
        state.update(v_pred=torch.tensor([]), ztsnr=torch.tensor([]))
    save_file(state, str(target))
    shutil.copytree(source.with_suffix(""), target.with_suffix(""))
    sched = target.with_suffix("") / "scheduler" / "scheduler_config.json"
    config = json.loads(sched.read_text())
    del config["prediction_type"]
    sched.write_text(json.dumps(config))
    return target


def test_a_v_pred_key_makes_the_v_prediction_variant(tiny, tmp_path):
    info = identify(_copy(tiny, tmp_path, "noobai-xl", marker=True))
    assert (info.kind, info.prediction) == ("sdxl-base", "v_prediction")
    assert not info.needs_variant_choice
    assert resolve_variant(info, None) == "sdxl-v"


def test_an_ordinary_sdxl_file_stays_noise_prediction_without_a_question(tiny, tmp_path):
    info = identify(_copy(tiny, tmp_path, "illustrious-xl", marker=False))
    assert (info.kind, info.prediction) == ("sdxl-base", "epsilon")
    assert not info.needs_variant_choice
    assert resolve_variant(info, None) == "sdxl-base"


@pytest.mark.parametrize("stem", ["noobaiXL-vpred10", "merge_v-pred_mix", "NoobAI V_Pred 1.0"])
def test_a_v_pred_name_is_read_when_the_marker_key_was_lost(tiny, tmp_path, stem):
    info = identify(_copy(tiny, tmp_path, stem, marker=False))
    assert info.prediction == "v_prediction"
    assert any("file name" in n for n in info.notes)
    assert resolve_variant(info, None) == "sdxl-v"


def test_the_v_prediction_model_loads_with_a_zero_terminal_snr_schedule(tiny, tmp_path):
    model = load_model(_copy(tiny, tmp_path, "noobai-xl", marker=True), device="cpu")
    config = model.pipe.scheduler.config
    assert model.variant == "sdxl-v"
    assert config.prediction_type == "v_prediction"
    assert config.rescale_betas_zero_snr and config.timestep_spacing == "trailing"
    # the last training step is pure noise: its cumulative alpha is (almost) zero
    assert float(model.pipe.scheduler.alphas_cumprod[-1]) < 1e-6


def test_choosing_noise_prediction_for_a_marked_file_is_honoured(tiny, tmp_path):
    model = load_model(_copy(tiny, tmp_path, "noobai-xl", marker=True), variant="sdxl-base",
                       device="cpu")
    assert model.pipe.scheduler.config.prediction_type == "epsilon"
    assert not model.pipe.scheduler.config.get("rescale_betas_zero_snr", False)
