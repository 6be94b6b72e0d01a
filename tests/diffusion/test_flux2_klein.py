"""FLUX.2 Klein through the app's own identify-and-load path, with a tiny
random pipeline (tests/tiny_families.py) as a diffusers folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from family_helpers import generate as _generate
from family_helpers import noise as _noise
from family_helpers import pixels as _pixels
from PIL import Image

from artstudio.diffusion import families
from artstudio.diffusion.loading import load_model, shipped_configs_dir
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.errors import UserFacingError
from artstudio.model_files.identify import classify_state_keys, identify


@pytest.fixture(scope="session")
def klein(tmp_path_factory):
    from tiny_families import save_tiny_flux2_klein

    return save_tiny_flux2_klein(tmp_path_factory.mktemp("tiny-klein"))


def _params(model, **kw) -> GenerationParams:
    base = dict(model=str(model), prompt="a red cat", steps=2, width=64, height=64, seed=7,
                device="cpu", cfg_scale=1.0, scheduler="flow_euler", preview_every=0)
    base.update(kw)
    return GenerationParams(**base)


def test_the_folder_says_it_is_the_distilled_klein(klein):
    info = identify(klein["diffusers"])
    assert (info.kind, info.family, info.prediction) == ("flux2-klein", "flux2", "distilled")
    model = load_model(klein["diffusers"], device="cpu")
    assert model.variant == "flux2-klein"
    assert families.defaults_for("flux2-klein", "distilled")["steps"] == 4
    assert families.defaults_for("flux2-klein", "base")["steps"] == 50
    assert not families.family("flux2").negative_prompt


def test_transformer_files_are_recognised_and_flux2_dev_is_refused():
    klein_file = {"model.diffusion_model.single_stream_modulation.lin.weight": (9216, 3072),
                  "model.diffusion_model.txt_in.weight": (3072, 7680)}
    kind, prediction, notes = classify_state_keys(klein_file)
    assert (kind, prediction) == ("flux2-klein", "") and "split components" in notes[0]
    dev_file = {"single_stream_modulation.lin.weight": (18432, 6144),
                "txt_in.weight": (6144, 15360)}
    assert classify_state_keys(dev_file) == ("unknown", "", ["FLUX.2 dev is not supported "
                                                             "(only FLUX.2 Klein)"])


def test_text_to_image_size_and_determinism(klein):
    first = _generate(_params(klein["diffusers"], count=2, width=96, height=64))
    assert [im.size for im in first.images] == [(96, 64), (96, 64)]
    again = _generate(_params(klein["diffusers"], width=96, height=64))
    assert np.array_equal(_pixels(again.images[0]), _pixels(first.images[0]))
    assert np.abs(_pixels(first.images[0]) - _pixels(first.images[1])).mean() > 3


def test_image_to_image_runs_through_the_inpainting_pipeline(klein):
    red, blue = Image.new("RGB", (96, 64), (255, 0, 0)), Image.new("RGB", (96, 64), (0, 0, 255))
    a = _generate(_params(klein["diffusers"], init_image=red, strength=0.5, steps=4,
                          width=96, height=96))
    b = _generate(_params(klein["diffusers"], init_image=blue, strength=0.5, steps=4,
                          width=96, height=96))
    assert a.images[0].size == (96, 64) and a.infos[0].metadata["mode"] == "img2img"
    assert np.abs(_pixels(a.images[0]) - _pixels(b.images[0])).mean() > 1  # the picture counts


def test_inpainting_leaves_unmasked_pixels_as_they_were(klein):
    image = _noise()
    mask = np.zeros((64, 64), np.float32)
    mask[16:40, 20:44] = 1.0
    out = _pixels(_generate(_params(klein["diffusers"], init_image=image, mask=mask,
                                    strength=1.0)).images[0])
    original = _pixels(image)
    assert np.array_equal(out[mask == 0], original[mask == 0])
    assert not np.array_equal(out[mask == 1], original[mask == 1])


def test_outpainting_extends_the_canvas(klein):
    image = _noise()
    out = _pixels(_generate(_params(klein["diffusers"], init_image=image,
                                    outpaint=(32, 0, 16, 16), strength=1.0)).images[0])
    assert out.shape == (80, 112, 3)
    assert np.array_equal(out[0:48, 48:80], _pixels(image)[0:48, 16:48])


def test_metadata_names_the_family_and_has_no_negative_prompt(klein):
    info = _generate(_params(klein["diffusers"], negative_prompt="blurry")).infos[0]
    assert "Negative prompt" not in info.parameters
    assert "Sampler: Euler (flow matching)" in info.parameters
    assert (info.metadata["family"], info.metadata["variant"]) == ("flux2", "flux2-klein")


def test_a_transformer_file_alone_says_what_it_needs(klein, tmp_path):
    from safetensors.torch import save_file

    model = load_model(klein["diffusers"], device="cpu")
    # the original layout names its single-stream modulation `lin`, diffusers `linear`
    state = {"model.diffusion_model." + k.replace(".linear.", ".lin."): v.contiguous()
             for k, v in model.pipe.transformer.state_dict().items()}
    path = tmp_path / "klein.safetensors"
    save_file(state, str(path))
    assert identify(path).kind == "flux2-klein"
    with pytest.raises(UserFacingError, match=r"No Qwen3 text encoder .* was found") as caught:
        load_model(path, "flux2-klein", device="cpu")
    assert f"looked in {tmp_path}" in str(caught.value)  # where it looked, for the artist


def test_shipped_klein_config_is_the_4b_model():
    from accelerate import init_empty_weights
    from diffusers import Flux2Transformer2DModel

    folder = shipped_configs_dir() / "flux2-klein"
    with init_empty_weights():
        transformer = Flux2Transformer2DModel.from_config(
            json.loads((folder / "transformer" / "config.json").read_text()))
    assert sum(p.numel() for p in transformer.parameters()) == 3_875_544_576
    assert json.loads((folder / "model_index.json").read_text())["is_distilled"] is True
    base = shipped_configs_dir() / "flux2-klein-base" / "model_index.json"
    assert json.loads(base.read_text())["is_distilled"] is False
