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


@pytest.fixture(scope="session")
def tiny_references(tiny, tmp_path_factory):
    """Tiny IP-Adapters and a tiny CLIP image encoder (tests/tiny_ip_adapter.py)
    under a ComfyUI install's models/ipadapter and models/clip_vision:
    {"home": the home folder, "comfy": the install, "encoder": its file,
    "sd1": base adapter, "sd1-plus", "sd1-other": a second base adapter,
    "sdxl": base adapter for the tiny SDXL, "download": the SD1 base adapter in
    the diffusers download layout (models/image_encoder beside it), "siglip" and
    "redux": a SigLIP encoder and a FLUX.1 Redux file for the tiny FLUX}."""
    from diffusers import UNet2DConditionModel
    from tiny_ip_adapter import (
        build_tiny_encoder,
        build_tiny_siglip,
        save_diffusers_download,
        save_tiny_adapter,
        save_tiny_encoder,
        save_tiny_redux,
        save_tiny_siglip,
        tiny_adapter_state,
    )

    home = tmp_path_factory.mktemp("reference-home")
    comfy = home / "ComfyUI"
    encoder = build_tiny_encoder()
    made = {"home": home, "comfy": comfy, "encoder": save_tiny_encoder(encoder, comfy)}
    sd1 = UNet2DConditionModel.from_pretrained(str(tiny["sd1"]["diffusers"] / "unet"))
    sdxl = UNet2DConditionModel.from_pretrained(str(tiny["sdxl-base"]["diffusers"] / "unet"))
    base = tiny_adapter_state(sd1, "base", seed=1)
    for key, unet, kind, seed, name in (
            ("sd1", None, "", 0, "ip-adapter_tiny_sd15"),
            ("sd1-plus", sd1, "plus", 2, "ip-adapter-plus_tiny_sd15"),
            ("sd1-other", sd1, "base", 3, "ip-adapter_tiny_sd15_other"),
            ("sdxl", sdxl, "base", 4, "ip-adapter_tiny_sdxl")):
        state = base if unet is None else tiny_adapter_state(unet, kind, seed=seed)
        made[key] = save_tiny_adapter(state, comfy, name)
    made["download"] = save_diffusers_download(base, encoder, home / "IP-Adapter",
                                               "ip-adapter_tiny_sd15")
    made["siglip"] = save_tiny_siglip(build_tiny_siglip(), comfy)
    made["redux"] = save_tiny_redux(comfy)
    return made
