"""FLUX.1 (dev, schnell, Fill, Kontext) through the app's own identify-and-load
path, as a diffusers folder and as an all-in-one single file, with tiny random
models (tests/tiny_pipelines.py)."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.diffusion import families
from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.errors import UserFacingError
from artstudio.model_files.identify import identify

LAYOUTS = ("diffusers", "single")


def _run(model, no_progress, token, **kw):
    kw = {"prompt": "a red cat", "steps": 2, "width": 64, "height": 48, "seed": 5,
          "cfg_scale": 3.5, "scheduler": "flow_euler", **kw}
    return run(GenerationParams(model=str(model), **kw), no_progress, token)


def _picture(w=80, h=48):
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_variant_is_identified_by_its_files(tiny_flux, layout):
    for variant in tiny_flux:
        info = identify(tiny_flux[variant][layout])
        assert info.kind == variant and info.is_diffusion, (variant, info)
        assert families.family_of_kind(info.kind).name == "flux"


def test_single_files_alone_tell_fill_and_schnell_apart(tiny_flux):
    """Without a config folder beside it, the transformer's tensors decide:
    384 input channels make Fill, no guidance embedder makes schnell, and a
    Kontext file (the same tensors as dev) reads as dev with a note."""
    from artstudio.model_files import safe_load
    from artstudio.model_files.identify import classify_state_keys

    found = {}
    for variant in tiny_flux:
        shapes = safe_load.read_keys_and_shapes(tiny_flux[variant]["single"])
        found[variant] = classify_state_keys(shapes)
    assert found["flux-fill"][0] == "flux-fill"
    assert found["flux-schnell"][0] == "flux-schnell"
    assert found["flux-dev"][0] == "flux-dev"
    kind, _prediction, notes = found["flux-kontext"]
    assert kind == "flux-dev" and any("flux-kontext" in n for n in notes)


def test_bfl_layout_converts_back_to_the_same_transformer(tiny_flux):
    """Our BFL -> diffusers conversion works at any width (diffusers' own
    assumes the full-size 3072) and inverts the layout real files use."""
    import torch
    from diffusers import FluxTransformer2DModel
    from tiny_pipelines import flux_transformer_to_bfl

    from artstudio.diffusion.families.flux import transformer_to_diffusers

    folder = tiny_flux["flux-dev"]["diffusers"]
    state = FluxTransformer2DModel.from_pretrained(folder / "transformer").state_dict()
    bfl = flux_transformer_to_bfl(state)
    assert "double_blocks.0.img_attn.qkv.weight" in bfl and "single_blocks.0.linear1.weight" in bfl
    back = transformer_to_diffusers(bfl)
    assert set(back) == set(state)
    assert all(torch.equal(back[k], state[k]) for k in state)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_mode_gives_the_requested_size(tiny_flux, layout, no_progress, token):
    model = tiny_flux["flux-dev"][layout]
    picture = _picture()
    mask = np.zeros((48, 80), np.float32)
    mask[10:30, 20:50] = 1
    assert _run(model, no_progress, token).images[0].size == (64, 48)
    assert _run(model, no_progress, token, init_image=picture, width=80,
                strength=0.6).images[0].size == (80, 48)
    inpainted = _run(model, no_progress, token, init_image=picture, mask=mask, width=80)
    assert inpainted.images[0].size == (80, 48)
    out = np.asarray(inpainted.images[0])
    assert np.array_equal(out[mask == 0], picture[mask == 0])  # masked latent blending, pasted
    assert not np.array_equal(out[mask == 1], picture[mask == 1])
    outpainted = _run(model, no_progress, token, init_image=picture, outpaint=(16, 0, 0, 0),
                      width=96)
    assert outpainted.images[0].size == (96, 48)
    # the new strip and the 16 px the prefill blends into are repainted, the rest kept
    assert np.array_equal(np.asarray(outpainted.images[0])[:, 32:], picture[:, 16:])


def test_same_seed_same_pixels_and_no_negative_prompt(tiny_flux, no_progress, token):
    model = tiny_flux["flux-dev"]["diffusers"]
    a = np.asarray(_run(model, no_progress, token).images[0])
    b = np.asarray(_run(model, no_progress, token, negative_prompt="dog").images[0])
    c = np.asarray(_run(model, no_progress, token, seed=6).images[0])
    assert np.array_equal(a, b)  # FLUX.1 has no negative prompt: it changes nothing
    assert not np.array_equal(a, c)


def test_guidance_reaches_the_model(tiny_flux, no_progress, token):
    model = tiny_flux["flux-dev"]["diffusers"]
    a = np.asarray(_run(model, no_progress, token, cfg_scale=1.0).images[0])
    b = np.asarray(_run(model, no_progress, token, cfg_scale=6.0).images[0])
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_fill_inpaints_with_its_own_pipeline(tiny_flux, layout, no_progress, token):
    from artstudio.diffusion.loading import get_model

    model = tiny_flux["flux-fill"][layout]
    picture = _picture()
    mask = np.zeros((48, 80), np.float32)
    mask[8:40, 40:80] = 1
    result = _run(model, no_progress, token, init_image=picture, mask=mask, width=80,
                  cfg_scale=30.0)
    out = np.asarray(result.images[0])
    assert out.shape == (48, 80, 3)
    assert np.array_equal(out[mask == 0], picture[mask == 0])
    assert type(get_model(str(model)).pipe).__name__ == "FluxFillPipeline"
    assert _run(model, no_progress, token).images[0].size == (64, 48)  # a full mask


@pytest.mark.parametrize("layout", LAYOUTS)
def test_kontext_edits_the_picture_at_its_size(tiny_flux, layout, no_progress, token):
    model = tiny_flux["flux-kontext"][layout]
    picture = _picture()
    result = _run(model, no_progress, token, init_image=picture, edit=True, width=80,
                  prompt="make it night", cfg_scale=2.5)
    out = np.asarray(result.images[0])
    assert out.shape == picture.shape and not np.array_equal(out, picture)
    again = _run(model, no_progress, token, init_image=picture, edit=True, width=80,
                 prompt="make it night", cfg_scale=2.5)
    assert np.array_equal(out, np.asarray(again.images[0]))
    assert result.infos[0].metadata["mode"] == "edit"


def test_edit_needs_a_kontext_model(tiny_flux, no_progress, token):
    with pytest.raises(UserFacingError, match="Kontext"):
        _run(tiny_flux["flux-dev"]["diffusers"], no_progress, token, init_image=_picture(),
             edit=True, width=80, prompt="make it night")
    with pytest.raises(UserFacingError, match="instruction"):
        _run(tiny_flux["flux-kontext"]["diffusers"], no_progress, token, edit=True, prompt="")


def test_metadata_names_the_distilled_guidance(tiny_flux, no_progress, token, tmp_path):
    from artstudio.diffusion.metadata import read_settings, save_png, settings_from_a1111

    result = _run(tiny_flux["flux-dev"]["diffusers"], no_progress, token, cfg_scale=4.5,
                  negative_prompt="ignored")
    info = result.infos[0]
    assert info.metadata["guidance"] == 4.5 and "cfg_scale" not in info.metadata
    assert info.metadata["family"] == "flux" and info.metadata["negative_prompt"] == ""
    text = info.parameters
    assert "Distilled CFG Scale: 4.5" in text and "CFG scale: 1" in text
    assert "Negative prompt" not in text
    assert settings_from_a1111(text)["cfg_scale"] == 4.5
    path = save_png(result.images[0], tmp_path / "f.png", info.metadata)
    assert read_settings(path)["cfg_scale"] == 4.5


def test_schnell_defaults_and_sampler_come_from_the_registry(tiny_flux, no_progress, token):
    info = identify(tiny_flux["flux-schnell"]["diffusers"])
    defaults = families.defaults_for(info.kind, info.prediction)
    assert defaults == {"width": 1024, "height": 1024, "steps": 4, "cfg_scale": 0.0,
                        "scheduler": "flow_euler"}
    # An SD sampler asked of FLUX runs FLUX's own, and the metadata says which ran.
    result = _run(tiny_flux["flux-schnell"]["diffusers"], no_progress, token,
                  scheduler="euler_a", cfg_scale=0.0)
    assert result.infos[0].metadata["scheduler"] == "flow_euler"


def test_step_previews_unpack_flux_latents(tiny_flux, token):
    previews = []

    def progress(step, total, message, preview=None):
        if preview is not None:
            previews.append(preview.size)

    run(GenerationParams(model=str(tiny_flux["flux-dev"]["diffusers"]), prompt="a cat",
                         steps=2, width=64, height=48, seed=1), progress, token)
    assert len(previews) == 2
    w, h = previews[0]
    assert w * 48 == h * 64  # the picture's aspect: the 2x2 patches were put back in place


def test_pack_and_unpack_match_the_pipeline():
    import torch
    from diffusers import FluxPipeline

    space = families.family("flux").latent
    lat = torch.randn(2, 16, 6, 10)
    packed = FluxPipeline._pack_latents(lat, 2, 16, 6, 10)
    assert torch.equal(space.pack(lat), packed)
    assert torch.equal(space.unpack(packed, 48, 80, 8), lat)
    assert torch.equal(space.unpack(packed, 48, 80, 8),
                       FluxPipeline._unpack_latents(packed, 48, 80, 8))
    assert space.size_multiple == 16


def test_a_missing_t5_tokenizer_is_named_with_where_it_was_looked_for(tiny_flux, tmp_path):
    """The shipped T5 vocabulary serves the published encoder; one it does not
    fit (the tiny T5 has 64 rows) needs its own, and the refusal says where."""
    import json

    from artstudio.diffusion.families.flux import load_t5_tokenizer

    checkpoint = tmp_path / "flux1-dev.safetensors"
    (tmp_path / "shipped" / "text_encoder_2").mkdir(parents=True)
    (tmp_path / "shipped" / "text_encoder_2" / "config.json").write_text(
        json.dumps({"vocab_size": 64}))
    with pytest.raises(UserFacingError, match="T5 tokenizer") as refused:
        load_t5_tokenizer(tmp_path / "shipped", checkpoint)
    assert "flux1-dev/" in str(refused.value) and "shipped" in str(refused.value)
    beside = tiny_flux["flux-dev"]["single"].with_suffix("")
    assert load_t5_tokenizer(tmp_path / "shipped", beside.with_suffix(".safetensors"))(
        "a red cat").input_ids[-1] == 1  # </s>


def test_the_self_test_generates_with_a_tiny_flux(tmp_path):
    from artstudio.selftest.diffusion import check_flux
    from artstudio.selftest.runner import CAPABILITIES

    assert "FLUX.1" in check_flux(tmp_path)
    assert "flux" in [c.name for c in CAPABILITIES]
