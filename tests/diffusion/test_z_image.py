"""Z-Image Turbo through the app's own identify-and-load path, with a tiny
random pipeline (tests/tiny_families.py) as a diffusers folder and as an
all-in-one single file in ComfyUI's checkpoint layout."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from family_helpers import generate as _generate
from family_helpers import noise as _noise
from family_helpers import pixels as _pixels

from artstudio.diffusion import families
from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.model_files.identify import classify_state_keys, identify


@pytest.fixture(scope="session")
def zimage(tmp_path_factory):
    from tiny_families import save_tiny_z_image

    return save_tiny_z_image(tmp_path_factory.mktemp("tiny-z-image"))


def _params(model, **kw) -> GenerationParams:
    base = dict(model=str(model), prompt="a red cat", steps=2, width=64, height=64, seed=7,
                device="cpu", cfg_scale=0.0, scheduler="flow_euler", preview_every=0)
    base.update(kw)
    return GenerationParams(**base)


@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_both_layouts_are_recognised(zimage, fmt):
    info = identify(zimage[fmt])
    assert (info.kind, info.family, info.needs_variant_choice) == (
        "z-image-turbo", "z-image", False)


def test_lumina_like_blocks_without_the_padding_tokens_are_not_z_image():
    shapes = {"model.diffusion_model.layers.0.adaLN_modulation.0.weight": (4, 4),
              "model.diffusion_model.cap_embedder.0.weight": (4,)}
    assert classify_state_keys(shapes)[0] == "unknown"
    shapes["model.diffusion_model.x_pad_token"] = (1, 4)
    kind, _prediction, notes = classify_state_keys(shapes)
    assert kind == "z-image-turbo"
    assert "no Qwen3 text encoder inside the file" in notes and "no VAE inside the file" in notes


def test_turbo_defaults_come_from_the_registry():
    assert families.defaults_for("z-image-turbo") == {
        "width": 1024, "height": 1024, "steps": 9, "cfg_scale": 0.0, "scheduler": "flow_euler"}


@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_text_to_image_size_and_determinism(zimage, fmt):
    first = _generate(_params(zimage[fmt], count=2, width=96, height=64))
    assert [im.size for im in first.images] == [(96, 64), (96, 64)]
    again = _generate(_params(zimage[fmt], width=96, height=64))
    assert np.array_equal(_pixels(again.images[0]), _pixels(first.images[0]))
    assert np.abs(_pixels(first.images[0]) - _pixels(first.images[1])).mean() > 5


def test_single_file_gives_the_folders_image(zimage):
    a = _generate(_params(zimage["diffusers"])).images[0]
    b = _generate(_params(zimage["single"])).images[0]
    assert np.abs(_pixels(a) - _pixels(b)).max() <= 1


def test_image_to_image_keeps_the_pictures_size(zimage):
    result = _generate(_params(zimage["single"], init_image=_noise(96, 64), strength=0.5,
                               width=96, height=96, steps=4))
    assert result.images[0].size == (96, 64)
    assert result.infos[0].metadata["mode"] == "img2img"


@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_inpainting_leaves_unmasked_pixels_as_they_were(zimage, fmt):
    image = _noise()
    mask = np.zeros((64, 64), np.float32)
    mask[16:40, 20:44] = 1.0
    out = _pixels(_generate(_params(zimage[fmt], init_image=image, mask=mask,
                                    strength=1.0)).images[0])
    original = _pixels(image)
    assert out.shape == original.shape
    assert np.array_equal(out[mask == 0], original[mask == 0])
    assert not np.array_equal(out[mask == 1], original[mask == 1])


def test_outpainting_extends_the_canvas(zimage):
    image = _noise()
    result = _generate(_params(zimage["diffusers"], init_image=image, outpaint=(32, 0, 16, 16),
                               strength=1.0))
    out = _pixels(result.images[0])
    assert out.shape == (80, 112, 3)
    assert np.array_equal(out[0:48, 48:80], _pixels(image)[0:48, 16:48])


def test_metadata_names_the_family_and_its_parameters(zimage):
    info = _generate(_params(zimage["single"], cfg_scale=0.0)).infos[0]
    assert "Sampler: Euler (flow matching)" in info.parameters
    assert "CFG scale: 0," in info.parameters and "Model: tiny-z-image" in info.parameters
    assert (info.metadata["family"], info.metadata["variant"]) == ("z-image", "z-image-turbo")


def test_step_previews_map_sixteen_channels(zimage):
    previews = []
    run(_params(zimage["diffusers"], preview_every=1),
        lambda s, t, m="", preview=None: previews.append(preview), CancelToken())
    shown = [p for p in previews if p is not None]
    assert len(shown) == 2 and shown[0].mode == "RGB"


def test_a_single_file_without_its_tokenizer_says_where_to_put_it(zimage, tmp_path):
    single = tmp_path / "zimage.safetensors"
    shutil.copy(zimage["single"], single)
    shutil.copytree(zimage["single"].with_suffix(""), single.with_suffix(""),
                    ignore=shutil.ignore_patterns("tokenizer"))
    with pytest.raises(UserFacingError, match="Qwen tokenizer"):
        _generate(_params(single))


def test_flux_preview_decoder_serves_z_image_too(tmp_path):
    """Z-Image decodes with FLUX.1's VAE, so FLUX's TAESD (taef1) fits it."""
    from diffusers import AutoencoderTiny

    from artstudio.diffusion.previews import find_taesd

    AutoencoderTiny(latent_channels=16, encoder_block_out_channels=(8,) * 4,
                    decoder_block_out_channels=(8,) * 4, num_encoder_blocks=(1,) * 4,
                    num_decoder_blocks=(1,) * 4).save_pretrained(tmp_path / "taef1")
    assert find_taesd([tmp_path], "z-image") == tmp_path / "taef1"
    assert find_taesd([tmp_path], "flux") == tmp_path / "taef1"
    assert find_taesd([tmp_path], "sd3") is None  # another latent space
