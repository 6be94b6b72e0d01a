"""The family registry: one entry per family, consistent, and used by the
code that used to branch on family names."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.diffusion import families


def test_every_kind_and_variant_belongs_to_exactly_one_family():
    kinds = [k for f in families.FAMILIES for k in f.kinds]
    names = [v.name for f in families.FAMILIES for v in f.variants]
    assert len(kinds) == len(set(kinds)) and len(names) == len(set(names))
    for spec in families.FAMILIES:
        assert set(spec.pipelines) >= {"txt2img", "img2img", "inpaint"}
        for v in spec.variants:
            assert families.variant(v.name) == (spec, v)
            assert families.family_of_kind(v.kind) is spec
            assert set(v.modes) <= set(families.ALL_MODES)
    # SD2 and SDXL (noise or velocity), SD3.5 large (or large turbo), a FLUX.2
    # Klein transformer file (distilled or base): the file may not tell
    assert set(families.ambiguous_kinds()) == {"sd2", "sdxl-base", "sd35-large", "flux2-klein"}
    with pytest.raises(ValueError, match="unknown model variant"):
        families.variant("sd4")


@pytest.mark.parametrize(("family", "expected"), [("sd1", None), ("sdxl", (0.1084, -0.0175))])
def test_previews_use_the_family_latent_factors(family, expected):
    import torch

    from artstudio.diffusion.previews import latents_to_rgb

    latents = torch.zeros(1, 4, 2, 2)
    latents[0, 0] = 1.0  # only the first channel: the preview is its factor row (+ bias)
    image = np.asarray(latents_to_rgb(latents, family, min_side=2))
    space = families.family(family).latent
    want = (np.array(space.preview_factors[0]) + np.array(space.preview_bias) + 1) / 2
    assert np.abs(image[0, 0] / 255 - want).max() < 1 / 255 + 1e-6
    if expected is not None:  # SDXL's map has a bias, SD1's has none
        assert space.preview_bias[:2] == expected
    with pytest.raises(ValueError, match="latent channels"):
        latents_to_rgb(torch.zeros(1, 16, 2, 2), family)


def test_default_sizes_come_from_the_registry(tiny):
    from artstudio.model_files.identify import identify

    def default_size(model, variant=None):
        info = identify(model)
        return families.default_size(info.kind, info.prediction, variant)

    assert default_size(tiny["sd1"]["diffusers"]) == 512
    assert default_size(tiny["sdxl-base"]["diffusers"]) == 1024
    assert default_size(tiny["sd2-v"]["diffusers"]) == 768  # its scheduler predicts velocity
    assert default_size(tiny["sd2-v"]["diffusers"], "sd2") == 512
    assert default_size(tiny["sd2-v"]["diffusers"], "sdxl-base") == 768  # another family's
    assert default_size(tiny["root"] / "no-such-model") == 512


def test_loaded_models_answer_from_their_variant(tiny):
    from artstudio.diffusion.loading import get_model

    model = get_model(tiny["sd1-inpaint"]["single"], device="cpu")
    assert (model.family, model.variant, model.is_inpaint_model) == ("sd1", "sd1-inpaint", True)
    assert type(model.pipe).__name__ == families.family("sd1").pipelines["inpaint"]
    assert model.native_size == 64  # the tiny UNet's 32 latent pixels times the VAE's 2


def test_mode_pipelines_keep_the_model_in_its_precision(tiny):
    """Deriving the image-to-image and inpainting pipelines shares the loaded
    modules as they are: an fp16/bf16 model must not be cast to float32 (twice
    the memory) the first time the artist inpaints."""
    import torch

    from artstudio.diffusion.loading import load_model, pipeline_for

    model = load_model(tiny["sdxl-base"]["diffusers"], device="cpu", precision="bfloat16")
    for mode in ("img2img", "inpaint"):
        pipe = pipeline_for(model, mode)
        assert type(pipe).__name__ == families.family("sdxl").pipelines[mode]
        assert pipe.unet is model.pipe.unet
    assert model.pipe.unet.dtype == torch.bfloat16
    assert model.pipe.text_encoder_2.dtype == torch.bfloat16


def test_an_all_in_one_file_missing_a_part_is_refused_by_name(tmp_path):
    from artstudio.diffusion.families.embedded_parts import require_embedded
    from artstudio.engine.errors import UserFacingError

    state = {"text_encoders.clip_l.x": 0, "model.diffusion_model.y": 0}
    parts = (("VAE", "first_stage_model."), ("CLIP-L", "text_encoders.clip_l."),
             ("CLIP-G", "text_encoders.clip_g."))
    with pytest.raises(UserFacingError) as caught:
        require_embedded(state, tmp_path / "sd35.safetensors", parts, "SD3", "encoders and VAE")
    assert str(caught.value).startswith("sd35.safetensors has no VAE or CLIP-G inside; choose")
    require_embedded({**state, "first_stage_model.z": 0, "text_encoders.clip_g.w": 0},
                     tmp_path / "sd35.safetensors", parts, "SD3", "encoders and VAE")
