"""The tiny ControlNets of the control tests, built once per session from the
tiny SD1 and SDXL UNets (tests/tiny_controlnets.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_controlnets(tiny, tmp_path_factory):
    """{"sd1-canny", "sd1-depth", "sdxl-canny": {"diffusers", "single",
    "single-diffusers"}}: ControlNets made from the tiny models' UNets,
    saved under an A1111 install's models/ControlNet."""
    from diffusers import UNet2DConditionModel
    from tiny_controlnets import build_tiny_controlnet, save_tiny_controlnet

    root = tmp_path_factory.mktemp("controlnet-home") / "stable-diffusion-webui" / "models" / \
        "ControlNet"
    made = {}
    for base, kind, seed in (("sd1", "canny", 1), ("sd1", "depth", 2), ("sdxl-base", "canny", 3)):
        unet = UNet2DConditionModel.from_pretrained(str(tiny[base]["diffusers"] / "unet"))
        family = "sdxl" if base.startswith("sdxl") else "sd15"
        made[f"{family.replace('sd15', 'sd1')}-{kind}"] = save_tiny_controlnet(
            build_tiny_controlnet(unet, seed), root, f"control_tiny_{family}_{kind}")
    made["root"] = root
    return made


@pytest.fixture
def annotators(monkeypatch, tmp_path):
    """The app's annotator folder (empty, created), HOME without other apps,
    and the networks run at 64 px so random weights stay quick."""
    from artstudio.control import preprocessors
    from artstudio.control.annotators import loading

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(loading, "DETECT_RESOLUTION", 64)
    loading.forget()
    folder = preprocessors.annotator_folders()[0]
    folder.mkdir(parents=True)
    yield folder
    loading.forget()
