"""Union SDXL ControlNets (xinsir's controlnet-union-sdxl-1.0 and promax: one
file for several kinds, told each control's type) with a tiny random union
ControlNet made from the tiny SDXL UNet, as a folder and as a single file."""

from __future__ import annotations

import numpy as np
import pytest
from control_runs import control_params as _params
from control_runs import pixels as _pixels
from test_control_generation import drawing

from artstudio.control.spec import ControlSpec
from artstudio.diffusion.generate import run
from artstudio.diffusion.loading import get_model
from artstudio.engine.errors import UserFacingError


@pytest.fixture(scope="session")
def union(tiny, tmp_path_factory):
    from diffusers import UNet2DConditionModel
    from tiny_controlnets import build_tiny_union, save_folder_and_file

    unet = UNet2DConditionModel.from_pretrained(str(tiny["sdxl-base"]["diffusers"] / "unet"))
    root = tmp_path_factory.mktemp("union") / "ComfyUI" / "models" / "controlnet"
    return save_folder_and_file(build_tiny_union(unet, seed=5), root,
                                "controlnet-union-sdxl-1.0-promax")


@pytest.fixture
def sdxl(tiny):
    return tiny["sdxl-base"]["diffusers"]




def _control(kind: str, net, **kw) -> ControlSpec:
    return ControlSpec(kind, drawing(), str(net), preprocess=False, **kw)


def test_a_union_control_changes_the_picture_and_strength_zero_does_not(sdxl, union,
                                                                        no_progress, token):
    plain = _pixels(_params(sdxl), no_progress, token)
    guided = _pixels(_params(sdxl, controls=(_control("canny", union["diffusers"]),)),
                     no_progress, token)
    assert np.abs(guided - plain).mean() > 1.0
    zero = _pixels(_params(sdxl, controls=(_control("canny", union["diffusers"], strength=0.0),)),
                   no_progress, token)
    assert np.abs(zero - plain).max() <= 1
    model = get_model(sdxl, device="cpu")
    built = model.derived["control-StableDiffusionXLControlNetUnionPipeline"]
    assert type(built.controlnet).__name__ == "ControlNetUnionModel"


@pytest.mark.parametrize("mode", ["img2img", "inpaint"])
def test_union_strength_zero_equals_the_plain_picture_in_every_mode(sdxl, union, mode,
                                                                    no_progress, token):
    rng = np.random.default_rng(4)
    mask = np.zeros((64, 64), np.float32)
    mask[16:48, 16:48] = 1.0
    extra = dict(init_image=rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), strength=0.8,
                 mask=mask if mode == "inpaint" else None)
    plain = _pixels(_params(sdxl, **extra), no_progress, token)
    net = union["single"]
    zero = _pixels(_params(sdxl, **extra, controls=(_control("depth", net, strength=0.0),)),
                   no_progress, token)
    guided = _pixels(_params(sdxl, **extra, controls=(_control("depth", net),)),
                     no_progress, token)
    assert np.abs(zero - plain).max() <= 1
    assert np.abs(guided - plain).mean() > 0.5


def test_the_folder_and_the_single_file_give_the_same_pixels(sdxl, union, no_progress, token):
    made = [_pixels(_params(sdxl, controls=(_control("canny", path),)), no_progress, token)
            for path in (union["diffusers"], union["single"])]
    assert np.array_equal(made[0], made[1])


def test_the_kind_picks_the_union_models_control_type(sdxl, union, no_progress, token):
    # the same image read as canny edges (type 3) and as depth (type 1)
    canny = _pixels(_params(sdxl, controls=(_control("canny", union["diffusers"]),)),
                    no_progress, token)
    depth = _pixels(_params(sdxl, controls=(_control("depth", union["diffusers"]),)),
                    no_progress, token)
    assert np.abs(canny - depth).mean() > 0.5


def test_two_controls_go_through_one_union_model_and_both_count(sdxl, union, no_progress,
                                                                token):
    canny = _control("canny", union["diffusers"])
    pose = ControlSpec("pose", np.rot90(drawing()).copy(), str(union["diffusers"]),
                       preprocess=False, strength=0.8, end=0.6)
    alone = _pixels(_params(sdxl, controls=(canny,)), no_progress, token)
    result = run(_params(sdxl, controls=(canny, pose)), no_progress, token)
    both = np.asarray(result.images[0]).astype(int)
    assert np.abs(both - alone).mean() > 0.5
    model = get_model(sdxl, device="cpu")
    built = model.derived["control-StableDiffusionXLControlNetUnionPipeline"]
    assert type(built.controlnet).__name__ == "ControlNetUnionModel"  # one model, two types
    assert [c["kind"] for c in result.infos[0].metadata["controls"]] == ["canny", "pose"]


def test_a_union_model_is_picked_from_the_library_for_a_kind(sdxl, union, no_progress, token,
                                                             monkeypatch):
    from artstudio.control import controlnet_files

    monkeypatch.setattr(controlnet_files, "controlnet_roots",
                        lambda extra=(): [union["diffusers"].parent])
    result = run(_params(sdxl, controls=(ControlSpec("depth", drawing(), preprocess=False),)),
                 no_progress, token)
    assert result.infos[0].metadata["controls"][0]["model"] == "controlnet-union-sdxl-1.0-promax"
    with pytest.raises(UserFacingError, match="No brightness ControlNet for Stable Diffusion XL"):
        run(_params(sdxl, controls=(ControlSpec("brightness", drawing(), preprocess=False),)),
            no_progress, token)


def test_what_a_union_model_cannot_do_is_refused_with_a_message(sdxl, tiny, union,
                                                                tiny_controlnets,
                                                                no_progress, token):
    with pytest.raises(UserFacingError, match=r"cannot read brightness / qr controls; it reads"):
        run(_params(sdxl, controls=(_control("brightness", union["single"]),)),
            no_progress, token)
    plain_xl = tiny_controlnets["sdxl-canny"]["diffusers"]
    with pytest.raises(UserFacingError, match="Union and single-kind SDXL ControlNets"):
        run(_params(sdxl, controls=(_control("canny", union["single"]),
                                    _control("canny", plain_xl))), no_progress, token)
    with pytest.raises(UserFacingError, match=r"is a ControlNet for Stable Diffusion XL models; "
                                              r"it cannot guide this Stable Diffusion 1\.x"):
        run(_params(tiny["sd1"]["diffusers"], controls=(_control("canny", union["single"]),)),
            no_progress, token)
