"""Reference images (IP-Adapter) in generation with tiny random models: a
reference changes the picture, weight 0 gives the plain picture, the UNet is
plain again afterwards, the adapter is built once, the ComfyUI files and the
diffusers download give the same pixels, references stack and run with a
ControlNet, and what does not fit is refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from control_runs import control_params as _params
from control_runs import pixels as _pixels
from test_control_generation import _canny

from artstudio.control import references
from artstudio.control.spec import ReferenceSpec
from artstudio.diffusion.generate import run
from artstudio.diffusion.metadata import a1111_text
from artstudio.engine.errors import UserFacingError


def look(seed: int = 0) -> np.ndarray:
    """A reference picture: smooth colour bands, not the size of the frame."""
    rng = np.random.default_rng(seed)
    img = np.zeros((48, 40, 3), np.uint8)
    img[:] = rng.integers(0, 256, 3)
    img[16:32] = rng.integers(0, 256, 3)
    return img




def _ref(adapter, weight: float = 1.0, seed: int = 0, **kw) -> ReferenceSpec:
    return ReferenceSpec(look(seed), weight, str(adapter), **kw)


@pytest.fixture
def comfy_home(tiny_references, monkeypatch):
    """HOME holding the ComfyUI install with the tiny adapters and encoder."""
    monkeypatch.setenv("HOME", str(tiny_references["home"]))
    return tiny_references


@pytest.fixture
def sd1(tiny):
    return tiny["sd1"]["diffusers"]


def test_a_reference_changes_the_picture_weight_zero_does_not_and_the_unet_comes_back(
        sd1, comfy_home, no_progress, token):
    plain = _pixels(_params(sd1), no_progress, token)
    guided = _pixels(_params(sd1, references=(_ref(comfy_home["sd1"]),)), no_progress, token)
    assert np.abs(guided - plain).mean() > 2.0
    zero = _pixels(_params(sd1, references=(_ref(comfy_home["sd1"], 0.0),)), no_progress, token)
    assert np.abs(zero - plain).max() <= 1
    # the next plain picture is the never-referenced one
    assert np.array_equal(_pixels(_params(sd1), no_progress, token), plain)


@pytest.mark.parametrize("mode", ["img2img", "inpaint"])
def test_references_guide_image_to_image_and_inpainting(sd1, comfy_home, mode, no_progress,
                                                        token):
    init = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), np.float32)
    mask[16:48, 16:48] = 1.0
    extra = dict(init_image=init, strength=0.8, mask=mask if mode == "inpaint" else None)
    plain = _pixels(_params(sd1, **extra), no_progress, token)
    zero = _pixels(_params(sd1, **extra, references=(_ref(comfy_home["sd1"], 0.0),)),
                   no_progress, token)
    guided = _pixels(_params(sd1, **extra, references=(_ref(comfy_home["sd1"]),)),
                     no_progress, token)
    assert np.abs(zero - plain).max() <= 1
    assert np.abs(guided - plain).mean() > 1.0


def test_a_plus_adapter_reads_the_encoders_hidden_states(sd1, comfy_home, no_progress, token):
    plain = _pixels(_params(sd1), no_progress, token)
    guided = _pixels(_params(sd1, references=(_ref(comfy_home["sd1-plus"]),)), no_progress,
                     token)
    assert np.abs(guided - plain).mean() > 2.0


def test_the_comfyui_files_and_the_diffusers_download_give_the_same_pixels(
        sd1, comfy_home, no_progress, token):
    comfy = _pixels(_params(sd1, references=(_ref(comfy_home["sd1"], 0.7),)), no_progress,
                    token)
    download = _pixels(_params(sd1, references=(_ref(comfy_home["download"], 0.7),)),
                       no_progress, token)
    assert np.array_equal(comfy, download)


def test_the_adapter_is_built_once_and_the_weight_set_per_run(sd1, comfy_home, no_progress,
                                                              token, monkeypatch):
    from diffusers import UNet2DConditionModel

    builds = []
    original = UNet2DConditionModel._load_ip_adapter_weights
    monkeypatch.setattr(UNet2DConditionModel, "_load_ip_adapter_weights",
                        lambda self, *a, **k: builds.append(1) or original(self, *a, **k))
    made = [_pixels(_params(sd1, references=(_ref(comfy_home["sd1-other"], w),)), no_progress,
                    token) for w in (0.5, 1.0, 0.5)]
    assert len(builds) == 1
    assert np.array_equal(made[0], made[2]) and not np.array_equal(made[0], made[1])


def test_two_references_stack_and_each_counts(sd1, comfy_home, no_progress, token):
    first = _ref(comfy_home["sd1"], 0.8, seed=1)
    second = _ref(comfy_home["sd1-other"], 0.8, seed=2)
    both = _pixels(_params(sd1, references=(first, second)), no_progress, token)
    for alone in (first, second):
        single = _pixels(_params(sd1, references=(alone,)), no_progress, token)
        assert np.abs(both - single).mean() > 1.0


def test_a_reference_guides_with_a_controlnet(sd1, comfy_home, tiny_controlnets, no_progress,
                                              token):
    control = _canny(tiny_controlnets["sd1-canny"]["diffusers"])
    controlled = _pixels(_params(sd1, controls=(control,)), no_progress, token)
    both = _pixels(_params(sd1, controls=(control,), references=(_ref(comfy_home["sd1"]),)),
                   no_progress, token)
    assert np.abs(both - controlled).mean() > 2.0


def test_the_adapter_is_picked_from_the_library_and_recorded(sd1, comfy_home, no_progress,
                                                             token):
    result = run(_params(sd1, references=(ReferenceSpec(look(), 0.6),)), no_progress, token)
    meta = result.infos[0].metadata
    [entry] = meta["references"]
    assert entry["model"] == "ip-adapter_tiny_sd15"  # the base adapter before plus and others
    assert entry["encoder"] == "tiny-clip-vision" and entry["weight"] == 0.6
    assert ('ControlNet 0: "Module: ip-adapter_clip, Model: ip-adapter_tiny_sd15, Weight: 0.6, '
            'Guidance Start: 0, Guidance End: 1"') in a1111_text(meta)


def test_the_tiny_sdxl_takes_its_adapter_and_refuses_the_sd1_one(tiny, comfy_home, no_progress,
                                                                 token):
    sdxl = tiny["sdxl-base"]["diffusers"]
    plain = _pixels(_params(sdxl), no_progress, token)
    guided = _pixels(_params(sdxl, references=(_ref(comfy_home["sdxl"]),)), no_progress, token)
    assert np.abs(guided - plain).mean() > 2.0
    with pytest.raises(UserFacingError, match="ip-adapter_tiny_sd15 is an IP-Adapter for"):
        run(_params(sdxl, references=(_ref(comfy_home["sd1"]),)), no_progress, token)


def test_an_sdxl_adapter_on_sd1_is_refused_by_name(sd1, comfy_home, no_progress, token):
    with pytest.raises(UserFacingError, match=r"ip-adapter_tiny_sdxl is an IP-Adapter for .* it "
                                              r"cannot guide this Stable Diffusion 1.x model"):
        run(_params(sd1, references=(_ref(comfy_home["sdxl"]),)), no_progress, token)


def test_a_missing_image_encoder_is_named_with_its_folder(sd1, tiny_references, tmp_path,
                                                          monkeypatch, no_progress, token):
    import shutil

    lone = tmp_path / "ComfyUI" / "models" / "ipadapter"
    lone.mkdir(parents=True)
    adapter = shutil.copy(tiny_references["sd1"], lone)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(UserFacingError, match=r"ip-adapter_tiny_sd15 needs the image encoder "
                                              r".* 24 wide; none was found.* models/clip_vision"):
        run(_params(sd1, references=(_ref(adapter),)), no_progress, token)


def test_families_without_reference_images_refuse_them_and_regions_with_them_are_refused(
        sd1, comfy_home, no_progress, token):
    assert all(references.supports(f) for f in ("sd1", "sdxl", "flux"))
    assert not references.supports("sd3") and not references.supports("zimage")
    assert "not with Stable Diffusion 3.5" in references.refusal("sd3")
    from artstudio.control.regions import RegionSpec

    mask = np.zeros((64, 64), np.float32)
    mask[:, :32] = 1
    with pytest.raises(UserFacingError, match="regions cannot be used together"):
        run(_params(sd1, regions=(RegionSpec(mask, "a dog"),),
                    references=(_ref(comfy_home["sd1"]),)), no_progress, token)


def test_an_adapter_made_for_another_unet_is_refused_and_the_unet_stays_plain(
        sd1, comfy_home, tmp_path, no_progress, token):
    from safetensors.torch import load_file, save_file

    state = load_file(str(comfy_home["sd1"]))
    last = max(int(k.split(".")[1]) for k in state if k.startswith("ip_adapter."))
    cut = tmp_path / "ip-adapter_fewer_layers.safetensors"
    save_file({k: v for k, v in state.items() if not k.startswith(f"ip_adapter.{last}.")},
              str(cut))
    plain = _pixels(_params(sd1), no_progress, token)
    with pytest.raises(UserFacingError, match="ip-adapter_fewer_layers does not fit this "
                                              "model's UNet"):
        run(_params(sd1, references=(_ref(cut),)), no_progress, token)
    assert np.array_equal(_pixels(_params(sd1), no_progress, token), plain)


def test_flux_redux_tokens_change_the_picture_and_weight_zero_does_not(
        tiny_flux, comfy_home, no_progress, token):
    flux = tiny_flux["flux-dev"]["diffusers"]
    settings = dict(steps=2, cfg_scale=3.5, scheduler="flow_euler")
    plain = _pixels(_params(flux, **settings), no_progress, token)
    result = run(_params(flux, **settings, references=(ReferenceSpec(look(), 1.0),)),
                 no_progress, token)  # the Redux file and SigLIP found in the library
    guided = np.asarray(result.images[0]).astype(int)
    # the tiny FLUX reads text weakly: a new prompt changes its picture by about 1.7 levels
    assert np.abs(guided - plain).mean() > 0.3
    [entry] = result.infos[0].metadata["references"]
    assert (entry["model"], entry["encoder"], entry["module"]) == (
        "flux1-redux-tiny", "tiny-sigclip-vision", "flux-redux")
    zero = _pixels(_params(flux, **settings, references=(ReferenceSpec(look(), 0.0),)),
                   no_progress, token)
    assert np.abs(zero - plain).max() <= 1
    with pytest.raises(UserFacingError, match=r"ip-adapter_tiny_sd15 is an IP-Adapter for .* "
                                              r"cannot guide this FLUX\.1 model"):
        run(_params(flux, **settings, references=(_ref(comfy_home["sd1"]),)), no_progress,
            token)


def test_a_redux_file_on_sd1_is_refused_by_name(sd1, comfy_home, no_progress, token):
    with pytest.raises(UserFacingError, match=r"flux1-redux-tiny is a FLUX\.1 Redux adapter for "
                                              r"FLUX\.1 models"):
        run(_params(sd1, references=(_ref(comfy_home["redux"]),)), no_progress, token)
