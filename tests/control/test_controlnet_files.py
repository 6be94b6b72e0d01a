"""ControlNet files: recognised by their tensors in every layout artists have,
matched to the model's family, found in A1111's and ComfyUI's folders, and
loaded offline with the same weights from a folder and from single files."""

from __future__ import annotations

import socket

import pytest
import torch
from safetensors.torch import save_file

from artstudio.control import controlnet_files as files
from artstudio.control.controlnet_loading import load_controlnet
from artstudio.engine.errors import UserFacingError


def _fake(path, keys: dict[str, tuple[int, ...]]):
    """A safetensors file with these tensor names and shapes (zeros)."""
    save_file({k: torch.zeros(shape) for k, shape in keys.items()}, str(path))
    return path


SD_CN = {"input_hint_block.0.weight": (16, 3, 3, 3), "zero_convs.0.0.weight": (4, 4, 1, 1),
         "time_embed.0.weight": (4, 4)}


@pytest.mark.parametrize("name, keys, architecture, family", [
    ("control_v11p_sd15_canny.safetensors",
     {**SD_CN, "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (1, 768)}, "sd", "sd1"),
    ("control_sd15_depth.safetensors",  # ControlNet 1.0: everything under control_model.
     {"control_model." + k: v for k, v in {
         **SD_CN, "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (1, 768)}.items()},
     "sd", "sd1"),
    ("controlnet-sd21-canny.safetensors",
     {**SD_CN, "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (1, 1024)}, "sd", "sd2"),
    ("diffusers_xl_canny_full.safetensors",
     {"controlnet_cond_embedding.conv_in.weight": (16, 3, 3, 3),
      "add_embedding.linear_1.weight": (4, 4),
      "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight": (1, 2048)},
     "sdxl", "sdxl"),
    ("controlnet-union-sdxl-1.0.safetensors",
     {"controlnet_cond_embedding.conv_in.weight": (16, 3, 3, 3), "task_embedding": (6, 4),
      "transformer_layes.0.attn.in_proj_weight": (4, 4),
      "add_embedding.linear_1.weight": (4, 4)}, "union-sdxl", "sdxl"),
    ("sd3.5_large_controlnet_canny.safetensors",
     {"pos_embed_input.proj.weight": (4, 4, 2, 2), "transformer_blocks.0.attn.to_q.weight": (4, 4),
      "controlnet_blocks.0.weight": (4, 4)}, "sd3", "sd3"),
    ("flux-canny-controlnet.safetensors",
     {"controlnet_x_embedder.weight": (4, 4), "controlnet_blocks.0.weight": (4, 4),
      "transformer_blocks.0.attn.to_q.weight": (4, 4)}, "flux", "flux"),
    ("flux-depth-controlnet-v3.safetensors",  # XLabs' layout
     {"double_blocks.0.img_attn.qkv.weight": (4, 4), "controlnet_blocks.0.weight": (4, 4),
      "input_hint_block.0.weight": (16, 3, 3, 3)}, "flux", "flux"),
    ("control-lora-canny-rank256.safetensors",
     {"lora_controlnet": (1,), "label_emb.0.0.weight": (4, 4)}, "control-lora", "sdxl"),
    ("t2iadapter_canny_sd15v2.safetensors",
     {"body.0.block1.weight": (4, 4, 3, 3), "conv_in.weight": (4, 4, 3, 3)}, "t2i-adapter", ""),
    ("v1-5-pruned.safetensors",
     {"model.diffusion_model.input_blocks.0.0.weight": (4, 4, 3, 3)}, "", ""),
])
def test_recognised_by_tensors_and_kind_from_name(tmp_path, name, keys, architecture, family):
    info = files.identify_controlnet(_fake(tmp_path / name, keys))
    assert (info.architecture, info.family) == (architecture, family)
    if architecture == "union-sdxl":
        assert info.kind == "union"
    elif info.is_controlnet:
        assert info.kind and info.kind == files.kind_from_file_name(info.name)


def test_family_matching_refuses_another_family_with_a_clear_message(tmp_path):
    sd15 = files.identify_controlnet(_fake(tmp_path / "control_v11p_sd15_canny.safetensors", {
        **SD_CN, "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (1, 768)}))
    assert sd15.unusable_with("sd1", 768) is None
    message = sd15.unusable_with("sdxl", 2048)
    assert message == ("control_v11p_sd15_canny is a ControlNet for Stable Diffusion 1.x models; "
                       "it cannot guide this Stable Diffusion XL model.")
    assert "Stable Diffusion 2" in sd15.unusable_with("sd2", 1024)
    sd3 = files.identify_controlnet(_fake(tmp_path / "sd3_canny.safetensors", {
        "pos_embed_input.proj.weight": (4, 4, 2, 2), "transformer_blocks.0.x.weight": (4, 4)}))
    assert sd3.unusable_with("sd3", 0) is None
    assert "cannot guide" in sd3.unusable_with("flux", 0)
    xlabs = files.identify_controlnet(_fake(tmp_path / "flux-canny-controlnet-v3.safetensors", {
        "double_blocks.0.img_attn.qkv.weight": (4, 4), "controlnet_blocks.0.weight": (4, 4)}))
    assert "XLabs' layout, which diffusers cannot load" in xlabs.unusable_with("flux", 0)


def test_tiny_controlnets_in_every_layout_are_identified(tiny_controlnets):
    for name, family, architecture in (("sd1-canny", "", "sd"), ("sdxl-canny", "sdxl", "sdxl")):
        for layout, path in tiny_controlnets[name].items():
            info = files.identify_controlnet(path)
            assert (info.architecture, info.family, info.kind) == (architecture, family, "canny")
            assert info.layout == ("ldm" if layout == "single" else "diffusers"), layout
    tiny_sd = files.identify_controlnet(tiny_controlnets["sd1-canny"]["single"])
    assert tiny_sd.cross_width == 32 and tiny_sd.unusable_with("sd1", 32) is None
    assert "cannot guide" in tiny_sd.unusable_with("sdxl", 72)
    assert "cannot guide" in tiny_sd.unusable_with("sd1", 768)  # another text width


def test_found_in_other_apps_folders_and_picked_by_kind_and_family(tiny_controlnets, tmp_path,
                                                                    monkeypatch):
    home = tiny_controlnets["root"].parents[2]  # .../stable-diffusion-webui/models/ControlNet
    monkeypatch.setenv("HOME", str(home))
    (tiny_controlnets["root"] / "notes.safetensors").write_bytes(b"not a model")
    found = files.find_controlnets()
    names = {i.name for i in found}
    assert {"control_tiny_sd15_canny", "control_tiny_sd15_depth",
            "control_tiny_sdxl_canny"} <= names
    assert "notes" not in names
    assert files.controlnet_roots() == [tiny_controlnets["root"]]
    assert files.pick_controlnet("depth", "sd1", 32, found).kind == "depth"
    assert files.pick_controlnet("canny", "sdxl", 72, found).family == "sdxl"
    with pytest.raises(UserFacingError, match="No lineart ControlNet for Stable Diffusion XL"):
        files.pick_controlnet("lineart", "sdxl", 72, found)
    with pytest.raises(UserFacingError, match="No depth ControlNet"):
        files.pick_controlnet("depth", "sdxl", 72, found)


def test_folder_and_single_files_load_the_same_weights_offline(tiny, tiny_controlnets,
                                                               monkeypatch):
    from diffusers import UNet2DConditionModel

    def no_network(*args, **kwargs):
        raise OSError("the network was asked")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    for name, base in (("sd1-canny", "sd1"), ("sdxl-canny", "sdxl-base")):
        unet = UNet2DConditionModel.from_pretrained(str(tiny[base]["diffusers"] / "unet"))
        paths = tiny_controlnets[name]
        states = {layout: load_controlnet(files.identify_controlnet(path), unet.config,
                                          torch.float32).state_dict()
                  for layout, path in paths.items()}
        reference = states.pop("diffusers")
        for layout, state in states.items():
            assert set(state) == set(reference), layout
            assert all(torch.equal(state[k], reference[k]) for k in reference), layout


def test_an_unloadable_file_is_one_clear_message(tmp_path, tiny):
    from diffusers import UNet2DConditionModel

    broken = _fake(tmp_path / "control_broken_canny.safetensors", SD_CN)
    unet = UNet2DConditionModel.from_pretrained(str(tiny["sd1"]["diffusers"] / "unet"))
    with pytest.raises(UserFacingError, match="The ControlNet control_broken_canny could not be"):
        load_controlnet(files.identify_controlnet(broken), unet.config, torch.float32)


def test_an_sd3_inpainting_controlnet_is_named_and_refused(tmp_path):
    # Alimama's SD3-Controlnet-Inpainting reads 16 latent channels plus the mask
    single = files.identify_controlnet(_fake(tmp_path / "SD3-Controlnet-Inpainting.safetensors", {
        "pos_embed_input.proj.weight": (4, 17, 2, 2), "transformer_blocks.0.x.weight": (4, 4)}))
    folder = tmp_path / "SD3-Controlnet-Inpainting"
    folder.mkdir()
    (folder / "config.json").write_text('{"_class_name": "SD3ControlNetModel", '
                                        '"extra_conditioning_channels": 1}')
    (folder / "diffusion_pytorch_model.safetensors").write_bytes(
        _fake(tmp_path / "w.safetensors", {"a": (1,)}).read_bytes())
    for info in (single, files.identify_controlnet(folder)):
        assert (info.architecture, info.family) == ("sd3-inpaint", "sd3")
        assert "SD3 inpainting ControlNet" in info.unusable_with("sd3", 0)
