"""Few-step models keep their own defaults live; an ordinary one is told."""

from __future__ import annotations

import json

import pytest

from artstudio.live.few_step import ORDINARY_STEPS, ORDINARY_STRENGTH, live_settings


@pytest.mark.parametrize(("name", "steps", "cfg", "sampler"), [
    ("dreamshaper-8-lcm.safetensors", 4, 1.5, "lcm"),
    ("sdxl_lightning_2step.safetensors", 2, 0.0, "euler"),
    ("sdxl-turbo", 4, 0.0, "euler_a"),
    ("Hyper-SD15-8steps.safetensors", 8, 0.0, None),
    ("Hyper-SDXL-12steps-CFG.safetensors", 12, None, None),
])
def test_few_step_models_are_known_by_name(tmp_path, name, steps, cfg, sampler):
    settings = live_settings(tmp_path / name, "sd1")
    assert (settings.steps, settings.cfg_scale, settings.scheduler) == (steps, cfg, sampler)
    assert settings.few_step and settings.strength is None


def test_a_distilled_variant_gets_its_registry_steps(tmp_path):
    settings = live_settings(tmp_path / "my-flux.safetensors", "flux-schnell")
    assert (settings.steps, settings.cfg_scale) == (4, 0.0)
    assert "schnell" in settings.note


def test_an_lcm_scheduler_in_the_config_makes_an_lcm_model(tmp_path):
    folder = tmp_path / "plain-name"
    (folder / "scheduler").mkdir(parents=True)
    (folder / "scheduler" / "scheduler_config.json").write_text(
        json.dumps({"_class_name": "LCMScheduler"}))
    assert live_settings(folder, "sd1").scheduler == "lcm"


def test_an_ordinary_model_runs_fewer_steps_and_says_so(tmp_path):
    settings = live_settings(tmp_path / "realisticVision.safetensors", "sd1")
    assert not settings.few_step
    assert (settings.steps, settings.strength) == (ORDINARY_STEPS, ORDINARY_STRENGTH)
    assert "not a few-step model" in settings.note
    assert "realisticVision" in settings.note
