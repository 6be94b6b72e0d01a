"""LoRAs: recognised by their tensors, matched to the family, applied with a
weight each without reloading the base model, kohya and diffusers layouts alike."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from artstudio.diffusion import lora_apply, loras
from artstudio.diffusion.loading import load_model
from artstudio.engine.errors import UserFacingError


@pytest.fixture(scope="module")
def model(tiny):
    return load_model(tiny["sd1"]["diffusers"], device="cpu")


@pytest.fixture(scope="module")
def files(model, tmp_path_factory):
    from tiny_assists import save_tiny_lora

    folder = tmp_path_factory.mktemp("loras")
    first = save_tiny_lora(model.pipe, folder / "a", seed=1)
    second = save_tiny_lora(model.pipe, folder / "b", seed=2, text_encoder=False)
    return {"a": first, "b": second}


def _image(model, chosen) -> np.ndarray:
    lora_apply.apply_loras(model.pipe, chosen, "sd1")
    latents = torch.randn(1, 4, 32, 32, generator=torch.Generator().manual_seed(5))
    return model.pipe("a red fox", num_inference_steps=2, width=64, height=64,
                      latents=latents, output_type="np").images[0] * 255


def test_layouts_families_parts_and_trigger_words_are_read(files):
    kohya = loras.identify_lora(files["a"]["kohya"])
    diffusers = loras.identify_lora(files["a"]["diffusers"])
    assert (kohya.layout, diffusers.layout) == ("kohya", "diffusers")
    # the tiny UNet reads 32-wide text, no real family's width: said, not guessed
    assert kohya.family == diffusers.family == ""
    assert "do not say which model family" in kohya.notes[0]
    assert kohya.parts == diffusers.parts == ("unet", "text_encoder")
    assert kohya.rank == diffusers.rank == 4
    assert kohya.triggers == ("red fox", "forest")  # most frequent training tags first
    assert loras.identify_lora(files["b"]["kohya"]).parts == ("unet",)


def test_a_sidecar_names_the_trigger_words(files, tmp_path):
    import shutil

    copy = tmp_path / "fox.safetensors"
    shutil.copy(files["a"]["diffusers"], copy)
    (tmp_path / "fox.civitai.info").write_text(json.dumps({"trainedWords": ["foxy style, ink"]}))
    assert loras.identify_lora(copy).triggers == ("foxy style", "ink")


def test_kohya_and_diffusers_layouts_give_the_same_pixels_and_weights_matter(model, files):
    base = _image(model, [])
    kohya_info = loras.identify_lora(files["a"]["kohya"])
    diffusers_info = loras.identify_lora(files["a"]["diffusers"])
    with_kohya = _image(model, [(kohya_info, 1.0)])
    with_diffusers = _image(model, [(diffusers_info, 1.0)])
    assert np.abs(with_kohya - with_diffusers).max() <= 1
    assert np.abs(with_kohya - base).max() > 10  # weight 1 changes the picture
    assert np.abs(_image(model, [(kohya_info, 0.0)]) - base).max() <= 1  # weight 0 is the base
    assert np.abs(_image(model, []) - base).max() <= 1  # switched off again


def test_two_loras_stack_and_a_weight_change_reloads_nothing(model, files, monkeypatch):
    a = loras.identify_lora(files["a"]["kohya"])
    b = loras.identify_lora(files["b"]["diffusers"])
    only_a = _image(model, [(a, 1.0)])
    both = _image(model, [(a, 1.0), (b, 1.0)])
    assert np.abs(both - only_a).max() > 10
    loads = []
    original = type(model.pipe).load_lora_weights
    monkeypatch.setattr(type(model.pipe), "load_lora_weights",
                        lambda self, *a, **k: (loads.append(1), original(self, *a, **k)))
    _image(model, [(a, 0.5), (b, 0.7)])
    _image(model, [(a, 1.0)])
    assert loads == []


def test_prompt_tags_are_taken_out_and_resolved(files):
    text, requests = loras.split_lora_tags("a red fox <lora:tiny-lora-kohya:0.6>, ink "
                                           "<LORA:tiny-lora-diffusers>")
    assert text == "a red fox, ink"
    assert requests == [loras.LoraRequest("tiny-lora-kohya", 0.6),
                        loras.LoraRequest("tiny-lora-diffusers", 1.0)]
    known = loras.find_loras([files["a"]["kohya"].parent])
    assert loras.resolve_request(requests[0], known).path == files["a"]["kohya"]
    with pytest.raises(UserFacingError, match="“missing” was not found"):
        loras.resolve_request(loras.LoraRequest("missing"), known)
    with pytest.raises(UserFacingError, match="not a number"):
        loras.split_lora_tags("<lora:x:heavy>")


def _fake(path, shapes):
    from safetensors.torch import save_file

    save_file({k: torch.zeros(s) for k, s in shapes.items()}, str(path))
    return path


ATTN2_K = "down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k"


@pytest.mark.parametrize("shapes,layout,family", [
    ({f"lora_unet_{ATTN2_K}.lora_down.weight": (8, 768)}, "kohya", "sd1"),
    ({f"lora_unet_{ATTN2_K}.lora_down.weight": (8, 1024)}, "kohya", "sd2"),
    ({"lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": (8, 768),
      "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": (8, 1280)},
     "kohya", "sdxl"),
    ({"unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight":
      (4, 2048)}, "diffusers", "sdxl"),
    ({"lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight": (16, 3072)}, "kohya", "flux"),
    ({"transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": (16, 3072)},
     "diffusers", "flux"),
    ({f"lora_unet_{ATTN2_K}.hada_w1_a": (768, 4)}, "lycoris", ""),
])
def test_real_layouts_are_told_apart_by_their_tensors(tmp_path, shapes, layout, family):
    info = loras.identify_lora(_fake(tmp_path / "x.safetensors", shapes))
    assert (info.layout, info.family) == (layout, family)


def test_not_a_lora_and_another_family_are_refused_plainly(tiny, tmp_path, model):
    checkpoint = loras.identify_lora(tiny["sd1"]["single"])
    assert not checkpoint.is_lora and "no LoRA tensors" in checkpoint.notes[0]
    with pytest.raises(UserFacingError, match="is not a LoRA"):
        lora_apply.apply_loras(model.pipe, [(checkpoint, 1.0)], "sd1")
    xl = loras.identify_lora(_fake(tmp_path / "xl-style.safetensors", {
        "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": (8, 1280)}))
    with pytest.raises(UserFacingError, match="xl-style is a LoRA for SDXL models, not SD1"):
        lora_apply.apply_loras(model.pipe, [(xl, 1.0)], "sd1")
    assert lora_apply.loaded_adapters(model.pipe) >= set()  # nothing half-loaded raised here
    pickle = loras.identify_lora(tmp_path / "old.pt")
    assert not pickle.is_lora and ".safetensors" in pickle.notes[0]
