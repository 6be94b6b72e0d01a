"""Stable Diffusion 3 / 3.5 through the app's own identify-and-load path, with
tiny random pipelines (tests/tiny_families.py) in both layouts artists keep:
a diffusers folder and an all-in-one single file (configured by the folder of
the same stem beside it)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
from family_helpers import generate as _generate
from family_helpers import noise as _noise
from family_helpers import pixels as _pixels

from artstudio.diffusion import families
from artstudio.diffusion.generate import run
from artstudio.diffusion.loading import VariantNeeded, load_model
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import CancelToken
from artstudio.model_files.identify import classify_state_keys, identify


@pytest.fixture(scope="session")
def sd3(tmp_path_factory):
    from tiny_families import save_tiny_sd3_models

    return save_tiny_sd3_models(tmp_path_factory.mktemp("tiny-sd3"))


# SD3.5 large and large turbo cannot be told apart from the file: the artist says which.
VARIANT = {"sd35-medium": None, "sd35-large": "sd35-large", "sd35-medium-no-t5": None}


def _params(model, name="sd35-medium", **kw) -> GenerationParams:
    base = dict(model=str(model), prompt="a red cat", steps=2, width=64, height=64, seed=7,
                device="cpu", cfg_scale=4.0, scheduler="flow_euler", variant=VARIANT[name],
                preview_every=0)
    base.update(kw)
    return GenerationParams(**base)


# ---- recognising the files ------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_each_layout_is_recognised_by_its_blocks(sd3, fmt):
    medium, large = identify(sd3["sd35-medium"][fmt]), identify(sd3["sd35-large"][fmt])
    assert (medium.kind, medium.family, medium.prediction) == ("sd35-medium", "sd3", "flow")
    assert (large.kind, large.family) == ("sd35-large", "sd3")
    assert large.needs_variant_choice and not medium.needs_variant_choice
    no_t5 = identify(sd3["sd35-medium-no-t5"][fmt])
    assert no_t5.kind == "sd35-medium"
    assert any("no T5" in note for note in no_t5.notes)


def test_single_files_are_recognised_without_a_config_folder(sd3, tmp_path):
    for name in ("sd35-medium", "sd35-large"):
        alone = tmp_path / f"{name}.safetensors"
        shutil.copy(sd3[name]["single"], alone)
        assert identify(alone).kind == name


def _real_key_shapes(layers: int, dual: bool, qk_norm: bool, prefix="model.diffusion_model."):
    shapes = {prefix + "pos_embed": (1, 36864, 1536), prefix + "x_embedder.proj.weight": (1536,)}
    for i in range(layers):
        base = f"{prefix}joint_blocks.{i}."
        shapes[base + "context_block.adaLN_modulation.1.bias"] = (9216,)
        shapes[base + "x_block.attn.qkv.weight"] = (4608, 1536)
        if qk_norm:
            shapes[base + "x_block.attn.ln_q.weight"] = (64,)
        if dual and i < 13:
            shapes[base + "x_block.attn2.qkv.weight"] = (4608, 1536)
    return shapes


@pytest.mark.parametrize(("layers", "dual", "qk_norm", "kind"), [
    (24, True, True, "sd35-medium"), (38, False, True, "sd35-large"),
    (24, False, False, "sd3-medium")])
@pytest.mark.parametrize("prefix", ["model.diffusion_model.", ""])
def test_real_key_layouts_classify(layers, dual, qk_norm, kind, prefix):
    shapes = _real_key_shapes(layers, dual, qk_norm, prefix)
    shapes.update({"first_stage_model.decoder.conv_in.weight": (512, 16, 3, 3),
                   "text_encoders.clip_l.transformer.text_model.final_layer_norm.weight": (768,),
                   "text_encoders.clip_g.transformer.text_model.final_layer_norm.weight":
                       (1280,)})
    found, _prediction, notes = classify_state_keys(shapes)
    assert found == kind
    assert any("no T5" in n for n in notes)  # CLIP pair and VAE present, T5 not


def test_large_asks_which_variant_and_remembers_the_answer(sd3):
    with pytest.raises(VariantNeeded) as asked:
        load_model(sd3["sd35-large"]["diffusers"], device="cpu")
    assert set(asked.value.choices) == {"sd35-large", "sd35-large-turbo"}
    turbo = load_model(sd3["sd35-large"]["diffusers"], "sd35-large-turbo", device="cpu")
    assert turbo.variant == "sd35-large-turbo" and turbo.family == "sd3"
    assert turbo.native_size == 64  # the tiny transformer's 8 latent pixels times 8


def test_variant_defaults_come_from_the_registry():
    assert families.defaults_for("sd35-large", variant_name="sd35-large-turbo") == {
        "width": 1024, "height": 1024, "steps": 4, "cfg_scale": 0.0, "scheduler": "flow_euler"}
    medium = families.defaults_for("sd35-medium")
    assert (medium["steps"], medium["cfg_scale"], medium["width"]) == (40, 4.5, 1024)
    assert families.family("sd3").negative_prompt
    assert families.family("sd3").sampler_for("euler_a") == "flow_euler"


# ---- generating ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sd35-medium", "sd35-large"])
@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_text_to_image_size_and_determinism(sd3, name, fmt):
    p = _params(sd3[name][fmt], name, count=2, width=80, height=64)
    first = _generate(p)
    assert [im.size for im in first.images] == [(80, 64), (80, 64)]
    again = _generate(_params(sd3[name][fmt], name, width=80, height=64))
    assert np.array_equal(_pixels(again.images[0]), _pixels(first.images[0]))
    assert np.abs(_pixels(first.images[0]) - _pixels(first.images[1])).mean() > 5


@pytest.mark.parametrize("name", ["sd35-medium", "sd35-large"])
def test_single_file_gives_the_folders_image(sd3, name):
    a = _generate(_params(sd3[name]["diffusers"], name)).images[0]
    b = _generate(_params(sd3[name]["single"], name)).images[0]
    # the same weights; the converted attention weights may sit in memory differently
    assert np.abs(_pixels(a) - _pixels(b)).max() <= 1


@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_without_t5_it_loads_and_generates(sd3, fmt):
    model = load_model(sd3["sd35-medium-no-t5"][fmt], device="cpu")
    assert model.pipe.text_encoder_3 is None and model.pipe.tokenizer_3 is None
    image = _generate(_params(sd3["sd35-medium-no-t5"][fmt])).images[0]
    assert image.size == (64, 64) and _pixels(image).std() > 1


def test_a_t5_without_its_tokenizer_is_left_out(sd3, tmp_path):
    """A T5 whose tokenizer is nowhere offline, and which the shipped T5
    vocabulary does not fit (the tiny one has 64 rows), is left out: the file
    loads on its CLIP encoders."""
    single = tmp_path / "sd35.safetensors"
    shutil.copy(sd3["sd35-medium"]["single"], single)
    shutil.copytree(sd3["sd35-medium"]["single"].with_suffix(""), single.with_suffix(""),
                    ignore=shutil.ignore_patterns("tokenizer_3"))
    model = load_model(single, device="cpu")
    assert model.pipe.text_encoder_3 is None
    with_t5 = load_model(sd3["sd35-medium"]["single"], device="cpu")
    assert with_t5.pipe.text_encoder_3 is not None
    assert _generate(_params(single)).images[0].size == (64, 64)


def test_image_to_image_keeps_the_pictures_size(sd3):
    p = _params(sd3["sd35-medium"]["diffusers"], init_image=_noise(96, 64), strength=0.5,
                width=96, height=96, steps=4)
    result = _generate(p)
    assert result.images[0].size == (96, 64)
    assert result.infos[0].metadata["mode"] == "img2img"


@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_inpainting_leaves_unmasked_pixels_as_they_were(sd3, fmt):
    image = _noise()
    mask = np.zeros((64, 64), np.float32)
    mask[16:40, 20:44] = 1.0
    out = _pixels(_generate(_params(sd3["sd35-large"][fmt], "sd35-large", init_image=image,
                                    mask=mask, strength=1.0)).images[0])
    original = _pixels(image)
    assert out.shape == original.shape
    assert np.array_equal(out[mask == 0], original[mask == 0])
    assert not np.array_equal(out[mask == 1], original[mask == 1])


def test_outpainting_extends_the_canvas(sd3):
    image = _noise()
    result = _generate(_params(sd3["sd35-medium"]["diffusers"], init_image=image,
                               outpaint=(32, 0, 16, 8), strength=1.0))
    out = _pixels(result.images[0])
    assert out.shape == (72, 112, 3)
    assert np.array_equal(out[0:48, 48:80], _pixels(image)[0:48, 16:48])


def test_metadata_names_the_family_and_its_parameters(sd3):
    info = _generate(_params(sd3["sd35-large"]["single"], "sd35-large",
                             negative_prompt="blurry")).infos[0]
    text = info.parameters
    assert text.startswith("a red cat\nNegative prompt: blurry\n")
    assert "Sampler: Euler (flow matching)" in text and "CFG scale: 4," in text
    assert "Model: tiny-sd35-large" in text and "Distilled" not in text
    assert (info.metadata["family"], info.metadata["variant"]) == ("sd3", "sd35-large")


def test_step_previews_map_sixteen_channels(sd3):
    previews = []
    run(_params(sd3["sd35-medium"]["diffusers"], preview_every=1),
        lambda s, t, m="", preview=None: previews.append(preview), CancelToken())
    shown = [p for p in previews if p is not None]
    assert len(shown) == 2 and shown[0].mode == "RGB" and min(shown[0].size) >= 128


def test_prompt_travel_mixes_all_four_text_outputs(sd3):
    from artstudio.interpolation.journey import JourneyPlan
    from artstudio.interpolation.travel import FrameStream

    g = _params(sd3["sd35-medium"]["diffusers"])
    frames = list(FrameStream(JourneyPlan(g, prompts=("a red cat", "a blue dog"), seeds=(3,),
                                          frames=3)))
    first = _generate(replace(g, prompt="a red cat", seed=3))
    assert len(frames) == 3 and frames[1].image.size == (64, 64)
    assert np.abs(_pixels(frames[0].image) - _pixels(first.images[0])).max() <= 2


def test_sizes_round_to_the_transformers_patches(sd3):
    result = _generate(_params(sd3["sd35-medium"]["diffusers"], width=72, height=88))
    assert result.images[0].size == (64, 80)
    assert "multiples of 16" in result.notes[0]
