"""LoRAs, embeddings and prompt weights through the real generate() entry point:
the model from the model cache, the prompt's <lora:> tags, the params' fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from artstudio.diffusion import loading
from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.errors import UserFacingError


@pytest.fixture(scope="module")
def files(tiny, tmp_path_factory):
    from tiny_assists import save_tiny_lora

    pipe = loading.load_model(tiny["sd1"]["diffusers"], device="cpu").pipe
    folder = tmp_path_factory.mktemp("loras")
    return {"a": save_tiny_lora(pipe, folder / "a", seed=1),
            "b": save_tiny_lora(pipe, folder / "b", seed=2, text_encoder=False)}


def _params(tiny, **kw) -> GenerationParams:
    base = dict(model=str(tiny["sd1"]["diffusers"]), prompt="a red cat", steps=2, width=64,
                height=64, seed=11, device="cpu", preview_every=0)
    base.update(kw)
    return GenerationParams(**base)


def _pixels(params, token) -> np.ndarray:
    result = run(params, lambda *a, **k: None, token)
    return np.asarray(result.images[0]).astype(np.int16)


def _differ(a, b) -> int:
    return int(np.abs(a - b).max())


def test_kohya_and_diffusers_layouts_give_the_same_pixels(tiny, files, token):
    kohya = _pixels(_params(tiny, loras=((str(files["a"]["kohya"]), 1.0),)), token)
    diffusers = _pixels(_params(tiny, loras=((str(files["a"]["diffusers"]), 1.0),)), token)
    assert _differ(kohya, diffusers) <= 1


def test_weight_one_changes_the_picture_and_weight_zero_is_the_base(tiny, files, token):
    base = _pixels(_params(tiny), token)
    lora = str(files["a"]["kohya"])
    assert _differ(_pixels(_params(tiny, loras=((lora, 1.0),)), token), base) > 10
    assert _differ(_pixels(_params(tiny, loras=((lora, 0.0),)), token), base) <= 1
    # the next request without LoRAs gets the base model back
    assert _differ(_pixels(_params(tiny), token), base) <= 1


def test_a_prompt_tag_is_taken_out_and_works_like_the_field(tiny, files, token, monkeypatch):
    monkeypatch.setattr("artstudio.diffusion.loras.lora_roots",
                        lambda extra=(): [files["a"]["kohya"].parent])
    field = _pixels(_params(tiny, loras=((str(files["a"]["kohya"]), 0.8),)), token)
    tagged = _params(tiny, prompt="a red cat <lora:tiny-lora-kohya:0.8>")
    result = run(tagged, lambda *a, **k: None, token)
    assert _differ(np.asarray(result.images[0]).astype(np.int16), field) <= 1
    assert result.infos[0].metadata["prompt"] == "a red cat <lora:tiny-lora-kohya:0.8>"


def test_two_loras_stack(tiny, files, token):
    a = (str(files["a"]["kohya"]), 1.0)
    b = (str(files["b"]["diffusers"]), 1.0)
    only_a = _pixels(_params(tiny, loras=(a,)), token)
    both = _pixels(_params(tiny, loras=(a, b)), token)
    assert _differ(both, only_a) > 10


def test_changing_a_weight_loads_neither_the_model_nor_the_lora_again(tiny, files, token,
                                                                       monkeypatch):
    lora = str(files["a"]["kohya"])
    first = _pixels(_params(tiny, loras=((lora, 1.0),)), token)  # loads what it needs
    pipe_class = type(loading.get_model(tiny["sd1"]["diffusers"], device="cpu").pipe)
    models, adapters = [], []
    original_model, original_lora = loading.load_model, pipe_class.load_lora_weights
    monkeypatch.setattr(loading, "load_model",
                        lambda *a, **k: (models.append(1), original_model(*a, **k))[1])
    monkeypatch.setattr(pipe_class, "load_lora_weights",
                        lambda self, *a, **k: (adapters.append(1), original_lora(self, *a, **k)))
    half = _pixels(_params(tiny, loras=((lora, 0.5),)), token)
    assert (models, adapters) == ([], [])
    assert _differ(half, first) > 1  # the weight did change


def test_a_missing_name_and_another_family_are_refused_by_name(tiny, tmp_path, token):
    with pytest.raises(UserFacingError, match="“nowhere” was not found"):
        run(_params(tiny, prompt="a cat <lora:nowhere:1>"), lambda *a, **k: None, token)
    xl = tmp_path / "xl-style.safetensors"
    save_file({"lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight":
               torch.zeros(8, 1280)}, str(xl))
    with pytest.raises(UserFacingError, match="xl-style is a LoRA for SDXL models, not SD1"):
        run(_params(tiny, loras=((str(xl), 1.0),)), lambda *a, **k: None, token)
    checkpoint = str(tiny["sd1"]["single"])
    with pytest.raises(UserFacingError, match="is not a LoRA"):
        run(_params(tiny, loras=((checkpoint, 1.0),)), lambda *a, **k: None, token)
    with pytest.raises(UserFacingError, match="weight must be a number"):
        run(_params(tiny, loras=((checkpoint, float("nan")),)), lambda *a, **k: None, token)


def test_weights_change_the_picture_and_weight_one_does_not(tiny, token):
    plain = _pixels(_params(tiny, prompt="a red cat"), token)
    assert _differ(_pixels(_params(tiny, prompt="a (red:1.0) cat"), token), plain) <= 1
    assert _differ(_pixels(_params(tiny, prompt="a (red:1.5) cat"), token), plain) > 1


def test_plain_prompts_stay_on_the_pipelines_own_encoder(tiny, token, monkeypatch):
    from artstudio.diffusion import prompt_weighting

    calls = []
    monkeypatch.setattr(prompt_weighting, "prompt_overrides",
                        lambda *a, **k: calls.append(a) or {})
    _pixels(_params(tiny, prompt="a red cat", negative_prompt="blurry"), token)
    assert calls == []


def test_the_tail_of_a_200_token_prompt_changes_the_picture(tiny, token):
    head = " ".join(["red cat"] * 100)  # 200 tokens, well past CLIP's 77
    pipe = loading.get_model(tiny["sd1"]["diffusers"], device="cpu").pipe
    assert len(pipe.tokenizer(head).input_ids) > 200
    dog = _pixels(_params(tiny, prompt=head + " the dog"), token)
    cat = _pixels(_params(tiny, prompt=head + " the blue tree"), token)
    assert _differ(dog, cat) > 1


def test_an_embedding_token_changes_the_picture(tiny, tmp_path, token):
    folder = tmp_path / "embeddings"
    folder.mkdir()
    torch.manual_seed(3)
    save_file({"emb_params": torch.randn(2, 32) * 3}, str(folder / "gouachey.safetensors"))
    dirs = (str(folder),)
    plain = _pixels(_params(tiny, prompt="a red cat", embedding_dirs=dirs), token)
    result = run(_params(tiny, prompt="a red cat gouachey", embedding_dirs=dirs),
                 lambda *a, **k: None, token)
    assert _differ(np.asarray(result.images[0]).astype(np.int16), plain) > 1
    assert [e["name"] for e in result.infos[0].metadata["embeddings"]] == ["gouachey"]
    weighted = _pixels(_params(tiny, prompt="a (red:1.0) cat gouachey", embedding_dirs=dirs),
                       token)
    assert _differ(weighted, np.asarray(result.images[0]).astype(np.int16)) <= 1
