"""IP-Adapter files and CLIP image encoders as artists keep them: recognised
by their tensors, found in ComfyUI's and A1111's folders, matched to a model,
an encoder's config made from its tensors, pickles refused unread."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from artstudio.control import image_encoders, ip_adapter_files
from artstudio.control.image_encoders import EncoderNeed
from artstudio.engine.errors import UserFacingError


def test_adapters_are_told_apart_by_their_tensors(tiny_references):
    base = ip_adapter_files.identify_adapter(tiny_references["sd1"])
    assert (base.kind, base.cross_width, base.need) == ("base", 32, EncoderNeed("projection", 24))
    plus = ip_adapter_files.identify_adapter(tiny_references["sd1-plus"])
    assert (plus.kind, plus.need) == ("plus", EncoderNeed("hidden", 32))
    sdxl = ip_adapter_files.identify_adapter(tiny_references["sdxl"])
    assert sdxl.cross_width == 72  # the tiny SDXL's two text encoders, 32 + 40
    assert sdxl.unusable_with("sd1", 32).startswith("ip-adapter_tiny_sdxl is an IP-Adapter for")
    assert sdxl.unusable_with("sdxl", 72) is None
    download = ip_adapter_files.identify_adapter(tiny_references["download"].parent)
    assert download.format == "diffusers" and download.encoder.name == "image_encoder"


def _shapes_file(path, shapes):
    save_file({k: torch.zeros(s) for k, s in shapes.items()}, str(path))
    return path


def test_real_layouts_give_family_kind_and_the_encoder_they_need(tmp_path):
    sd15 = _shapes_file(tmp_path / "ip-adapter_sd15.safetensors", {
        "image_proj.proj.weight": (3072, 1024), "image_proj.norm.weight": (768,),
        "ip_adapter.1.to_k_ip.weight": (320, 768)})
    info = ip_adapter_files.identify_adapter(sd15)
    assert (info.kind, info.family) == ("base", "sd1")
    assert "CLIP-ViT-H-14" in info.need.describe()
    xl = _shapes_file(tmp_path / "ip-adapter_sdxl.safetensors", {
        "image_proj.proj.weight": (8192, 1280), "ip_adapter.1.to_k_ip.weight": (640, 2048)})
    info = ip_adapter_files.identify_adapter(xl)
    assert info.family == "sdxl" and "bigG" in info.need.describe()
    face = _shapes_file(tmp_path / "ip-adapter-faceid_sd15.safetensors", {
        "image_proj.proj.0.weight": (1024, 512), "image_proj.norm.weight": (768,),
        "ip_adapter.1.to_k_ip.weight": (320, 768)})
    info = ip_adapter_files.identify_adapter(face)
    assert info.kind == "faceid" and "InsightFace" in info.unusable_with("sd1", 768)
    redux = _shapes_file(tmp_path / "flux1-redux-dev.safetensors", {
        "redux_up.weight": (12288, 1152), "redux_down.weight": (4096, 12288)})
    assert ip_adapter_files.identify_adapter(redux).family == "flux"
    other = _shapes_file(tmp_path / "lora.safetensors", {"lora_unet_x.lora_down.weight": (4, 8)})
    assert not ip_adapter_files.identify_adapter(other).is_adapter


def test_pickled_adapters_and_encoders_are_refused_unread(tmp_path):
    trap = tmp_path / "ip-adapter_sd15.bin"
    trap.write_bytes(b"not read")
    for info in (ip_adapter_files.identify_adapter(trap), image_encoders.identify_encoder(trap)):
        assert ".safetensors only" in info.notes[0]
    assert "could run code" in ip_adapter_files.identify_adapter(trap).unusable_with("sd1", 768)


def test_the_encoder_config_comes_from_its_tensors_and_loads_offline(tiny_references):
    from tiny_ip_adapter import ENCODER, build_tiny_encoder

    info = image_encoders.identify_encoder(tiny_references["encoder"])
    assert (info.hidden, info.projection, info.layers, info.patch, info.image_size) == (
        ENCODER["hidden"], ENCODER["projection"], ENCODER["layers"], ENCODER["patch"],
        ENCODER["image_size"])
    loaded = image_encoders.load_encoder(info, "cpu", torch.float32)
    pixels = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 3, 32, 32))).float()
    with torch.no_grad():
        assert torch.allclose(loaded(pixels).image_embeds,
                              build_tiny_encoder()(pixels).image_embeds, atol=1e-6)


def test_adapters_and_encoders_are_found_in_comfyui_and_a1111_folders(tiny_references, tmp_path,
                                                                      monkeypatch):
    webui = tmp_path / "stable-diffusion-webui" / "models" / "ControlNet"
    webui.mkdir(parents=True)
    shutil.copy(tiny_references["sd1-plus"], webui)
    shutil.copytree(tiny_references["comfy"], tmp_path / "ComfyUI")
    monkeypatch.setenv("HOME", str(tmp_path))
    found = {(i.name, i.path.parent.name) for i in ip_adapter_files.find_adapters()}
    assert ("ip-adapter-plus_tiny_sd15", "ControlNet") in found
    assert ("ip-adapter_tiny_sdxl", "ipadapter") in found
    picked = ip_adapter_files.pick_adapter("sd1", 32, ip_adapter_files.find_adapters())
    assert picked.name == "ip-adapter_tiny_sd15"  # base before plus
    assert [(e.name, e.network) for e in image_encoders.find_encoders()] == [
        ("tiny-clip-vision", "clip"), ("tiny-sigclip-vision", "siglip")]
    assert ("flux1-redux-tiny", "style_models") in found
    with pytest.raises(UserFacingError, match="No IP-Adapter for Stable Diffusion 2 models"):
        ip_adapter_files.pick_adapter("sd2", 1024, ip_adapter_files.find_adapters())
