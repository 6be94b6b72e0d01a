"""ControlNet generation with tiny random models: a control changes the
picture, strength 0 changes nothing, a ControlNet reads the same from a folder
and from single files, several stack, and one of another family is refused."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from control_runs import control_params as _params
from control_runs import pixels as _pixels

from artstudio.control.spec import ControlSpec
from artstudio.diffusion.generate import run
from artstudio.diffusion.loading import get_model
from artstudio.engine.errors import UserFacingError


def drawing(w: int = 64, h: int = 64) -> np.ndarray:
    img = np.full((h, w, 3), 255, np.uint8)
    cv2.rectangle(img, (w // 4, h // 4), (3 * w // 4, 3 * h // 4), (0, 0, 0), 3)
    cv2.line(img, (0, h - 8), (w, 8), (0, 0, 0), 3)
    return img




def _canny(net, **kw) -> ControlSpec:
    return ControlSpec("canny", drawing(), str(net), **kw)


@pytest.fixture
def sd1(tiny):
    return tiny["sd1"]["diffusers"]


def test_a_control_changes_the_picture_and_strength_zero_does_not(sd1, tiny_controlnets,
                                                                  no_progress, token):
    plain = _pixels(_params(sd1), no_progress, token)
    net = tiny_controlnets["sd1-canny"]["diffusers"]
    guided = _pixels(_params(sd1, controls=(_canny(net),)), no_progress, token)
    assert np.abs(guided - plain).mean() > 2.0
    zero = _pixels(_params(sd1, controls=(_canny(net, strength=0.0),)), no_progress, token)
    assert np.abs(zero - plain).max() <= 1


@pytest.mark.parametrize("mode", ["img2img", "inpaint"])
def test_strength_zero_equals_the_plain_picture_in_every_mode(sd1, tiny_controlnets, mode,
                                                              no_progress, token):
    rng = np.random.default_rng(3)
    init = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.float32)
    mask[16:48, 16:48] = 1.0
    extra = dict(init_image=init, strength=0.8, mask=mask if mode == "inpaint" else None)
    plain = _pixels(_params(sd1, **extra), no_progress, token)
    net = tiny_controlnets["sd1-canny"]["diffusers"]
    zero = _pixels(_params(sd1, **extra, controls=(_canny(net, strength=0.0),)),
                   no_progress, token)
    guided = _pixels(_params(sd1, **extra, controls=(_canny(net),)), no_progress, token)
    assert np.abs(zero - plain).max() <= 1
    assert np.abs(guided - plain).mean() > 1.0


def test_folder_and_single_file_controlnets_give_the_same_pixels(sd1, tiny_controlnets,
                                                                 no_progress, token):
    made = {layout: _pixels(_params(sd1, controls=(_canny(path),)), no_progress, token)
            for layout, path in tiny_controlnets["sd1-canny"].items()}
    assert np.array_equal(made["diffusers"], made["single"])
    assert np.array_equal(made["diffusers"], made["single-diffusers"])


def test_two_stacked_controls_run_and_each_counts(sd1, tiny_controlnets, no_progress, token):
    canny = _canny(tiny_controlnets["sd1-canny"]["diffusers"])
    depth = ControlSpec("depth", np.tile(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None],
                                         (64, 1, 3)),
                        str(tiny_controlnets["sd1-depth"]["single"]), strength=0.8,
                        start=0.0, end=0.5, preprocess=False)
    alone = _pixels(_params(sd1, controls=(canny,)), no_progress, token)
    result = run(_params(sd1, controls=(canny, depth)), no_progress, token)
    both = np.asarray(result.images[0]).astype(int)
    assert np.abs(both - alone).mean() > 1.0
    controls = result.infos[0].metadata["controls"]
    assert [c["kind"] for c in controls] == ["canny", "depth"]
    assert [c["module"] for c in controls] == ["canny", "none"]
    assert controls[1]["guidance_end"] == 0.5 and controls[1]["weight"] == 0.8
    text = result.infos[0].parameters
    assert ('ControlNet 0: "Module: canny, Model: control_tiny_sd15_canny, Weight: 1, '
            'Guidance Start: 0, Guidance End: 1"') in text
    assert 'ControlNet 1: "Module: none, Model: control_tiny_sd15_depth, Weight: 0.8' in text


def test_the_pipeline_reuses_the_loaded_model_and_keeps_the_controlnet(sd1, tiny_controlnets,
                                                                       no_progress, token):
    net = tiny_controlnets["sd1-canny"]["diffusers"]
    run(_params(sd1, controls=(_canny(net),)), no_progress, token)
    model = get_model(sd1, device="cpu")
    built = model.derived["control-StableDiffusionControlNetPipeline"]
    assert type(built).__name__ == "StableDiffusionControlNetPipeline"
    assert built.unet is model.pipe.unet and built.vae is model.pipe.vae
    key = str(net.resolve())
    kept = model.controlnets[key]
    count = len(model.controlnets)
    run(_params(sd1, controls=(_canny(net, strength=0.5),)), no_progress, token)
    assert model.controlnets[key] is kept and len(model.controlnets) == count
    assert model.derived["control-StableDiffusionControlNetPipeline"] is built


def test_a_control_of_another_size_is_scaled_with_a_note(sd1, tiny_controlnets, no_progress,
                                                         token):
    net = tiny_controlnets["sd1-canny"]["diffusers"]
    small = ControlSpec("canny", drawing(40, 24), str(net))
    result = run(_params(sd1, controls=(small,)), no_progress, token)
    assert result.images[0].size == (64, 64)
    assert "Control 0 (canny) was 40x24; it was scaled to the picture's 64x64." in result.notes
    assert result.infos[0].metadata["controls"][0]["note"] == "scaled from 40x24 to 64x64"


def test_sdxl_uses_its_own_controlnet_and_refuses_an_sd15_one(tiny, tiny_controlnets,
                                                              no_progress, token):
    sdxl = tiny["sdxl-base"]["diffusers"]
    plain = _pixels(_params(sdxl), no_progress, token)
    net = tiny_controlnets["sdxl-canny"]["single-diffusers"]
    guided = _pixels(_params(sdxl, controls=(_canny(net),)), no_progress, token)
    assert np.abs(guided - plain).mean() > 1.0
    with pytest.raises(UserFacingError, match=r"control_tiny_sd15_canny is a ControlNet for "
                                              r"Stable Diffusion 1\.x / 2 .*cannot guide this "
                                              r"Stable Diffusion XL model"):
        run(_params(sdxl, controls=(_canny(tiny_controlnets["sd1-canny"]["single"]),)),
            no_progress, token)


@pytest.mark.parametrize("how", ["only_masked", "outpaint"])
def test_inpainting_a_crop_and_outpainting_cut_and_grow_the_controls(sd1, tiny_controlnets,
                                                                    how, no_progress, token):
    init = np.full((64, 64, 3), 128, np.uint8)
    mask = np.zeros((64, 64), np.float32)
    mask[8:30, 8:30] = 1.0
    extra = (dict(mask=mask, only_masked=True, mask_padding=4) if how == "only_masked"
             else dict(outpaint=(16, 0, 16, 0)))
    net = tiny_controlnets["sd1-canny"]["diffusers"]
    result = run(_params(sd1, init_image=init, **extra, controls=(_canny(net),)),
                 no_progress, token)
    assert result.images[0].size == ((64, 64) if how == "only_masked" else (96, 64))
    assert not result.notes  # the control was the picture's size


def test_bad_controls_are_refused_before_loading(sd1):
    from artstudio.diffusion.params import check_params

    for control, message in ((ControlSpec("sparkles", drawing()), "Unknown control kind"),
                             (ControlSpec("canny", None), "has no image"),
                             (ControlSpec("canny", drawing(), strength=3), "strength must be"),
                             (ControlSpec("canny", drawing(), start=0.6, end=0.4), "start before")):
        with pytest.raises(UserFacingError, match=message):
            check_params(_params(sd1, controls=(control,)))
