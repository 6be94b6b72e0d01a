"""SD3.5 ControlNets with a tiny random SD3.5 large pipeline
(tests/tiny_families.py) and tiny ControlNets over its transformer: InstantX's
kind (a diffusers folder, and its tensors as one file) and the kind of
Stability AI's sd3.5_large_controlnet_* files (their own key layout)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from control_runs import control_params
from control_runs import pixels as _pixels
from test_control_generation import drawing

from artstudio.control.spec import ControlSpec
from artstudio.diffusion.generate import run
from artstudio.diffusion.loading import get_model
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.errors import UserFacingError


def _params(sd3, **kw) -> GenerationParams:
    return control_params(sd3["model"], **{"cfg_scale": 4.0, "scheduler": "flow_euler",
                                           "variant": "sd35-large", **kw})


@pytest.fixture(scope="session")
def sd3(tmp_path_factory):
    """{"model": folder, "instantx": {"diffusers", "single"}, "stability":
    {"diffusers", "single"}}: the single file of "stability" in Stability's layout."""
    from safetensors.torch import save_file
    from tiny_controlnets import build_tiny_sd3_controlnet, save_folder_and_file, sd3_to_stability
    from tiny_families import build_tiny_sd3, write_tiny_t5_tokenizer

    from artstudio.selftest.random_models import write_tiny_tokenizer

    root = tmp_path_factory.mktemp("sd3-control")
    pipe = build_tiny_sd3("sd35-large", write_tiny_tokenizer(root / "clip-tok"),
                          write_tiny_t5_tokenizer(root / "t5-tok"))
    pipe.save_pretrained(str(root / "sd35-large"), safe_serialization=True)
    nets = root / "models" / "controlnet"
    made = {"model": root / "sd35-large"}
    made["instantx"] = save_folder_and_file(
        build_tiny_sd3_controlnet(pipe.transformer, seed=3), nets, "SD3-Controlnet-Canny")
    stability = build_tiny_sd3_controlnet(pipe.transformer, seed=4, stability=True)
    made["stability"] = save_folder_and_file(stability, nets, "sd3.5_large_controlnet_depth")
    save_file(sd3_to_stability(stability.state_dict()), str(made["stability"]["single"]))
    return made




def _control(kind: str, net, **kw) -> ControlSpec:
    return ControlSpec(kind, drawing(), str(net), preprocess=False, **kw)


@pytest.mark.parametrize("which", ["instantx", "stability"])
def test_an_sd3_control_changes_the_picture_and_strength_zero_does_not(sd3, which,
                                                                      no_progress, token):
    plain = _pixels(_params(sd3), no_progress, token)
    net = sd3[which]["single"]
    guided = _pixels(_params(sd3, controls=(_control("canny", net),)), no_progress, token)
    assert np.abs(guided - plain).mean() > 1.0
    again = _pixels(_params(sd3, controls=(_control("canny", net),)), no_progress, token)
    assert np.array_equal(guided, again)  # the control image's encoding draws no noise
    zero = _pixels(_params(sd3, controls=(_control("canny", net, strength=0.0),)),
                   no_progress, token)
    assert np.abs(zero - plain).max() <= 1


@pytest.mark.parametrize("which", ["instantx", "stability"])
def test_the_single_file_gives_the_folders_pixels(sd3, which, no_progress, token):
    made = [_pixels(_params(sd3, controls=(_control("depth", path),)), no_progress, token)
            for path in (sd3[which]["diffusers"], sd3[which]["single"])]
    assert np.array_equal(made[0], made[1])


def test_two_sd3_controls_stack(sd3, no_progress, token):
    first = _control("canny", sd3["instantx"]["diffusers"])
    second = ControlSpec("depth", np.rot90(drawing()).copy(), str(sd3["instantx"]["single"]),
                         preprocess=False, strength=0.7)
    alone = _pixels(_params(sd3, controls=(first,)), no_progress, token)
    both = _pixels(_params(sd3, controls=(first, second)), no_progress, token)
    assert np.abs(both - alone).mean() > 0.5
    built = get_model(sd3["model"], "sd35-large", "cpu").derived[
        "control-StableDiffusion3ControlNetPipeline"]
    assert type(built.controlnet).__name__ == "SD3MultiControlNetModel"
    assert built.transformer is get_model(sd3["model"], "sd35-large", "cpu").pipe.transformer
    # diffusers gives all of them the text or none: the two kinds cannot be mixed
    mixed = (first, dataclasses.replace(second, model=str(sd3["stability"]["single"])))
    with pytest.raises(UserFacingError, match="cannot guide one picture together"):
        run(_params(sd3, controls=mixed), no_progress, token)


def test_sd3_refuses_what_it_cannot_do(sd3, tiny, tiny_controlnets, no_progress, token):
    net = sd3["instantx"]["diffusers"]
    with pytest.raises(UserFacingError, match=r"Stable Diffusion 3\.5 ControlNets guide "
                                              "text-to-image only, not image-to-image"):
        run(_params(sd3, init_image=drawing(), strength=0.6,
                    controls=(_control("canny", net),)), no_progress, token)
    with pytest.raises(UserFacingError, match=r"cannot guide this Stable Diffusion 3\.5 model"):
        run(_params(sd3, controls=(_control("canny", tiny_controlnets["sdxl-canny"]["single"]),)),
            no_progress, token)
    with pytest.raises(UserFacingError, match=r"is a ControlNet for Stable Diffusion 3\.5 models; "
                                              "it cannot guide this Stable Diffusion XL model"):
        run(GenerationParams(model=str(tiny["sdxl-base"]["diffusers"]), prompt="a cat", steps=2,
                             width=64, height=64, device="cpu",
                             controls=(_control("canny", net),)), no_progress, token)


def test_regions_are_refused_on_sd3_rather_than_ignored(sd3, no_progress, token):
    from artstudio.control.regions import RegionSpec

    mask = np.zeros((64, 64), np.float32)
    mask[:, :32] = 1.0
    with pytest.raises(UserFacingError, match="this model would ignore them"):
        run(_params(sd3, regions=(RegionSpec(mask, "a stone wall"),)), no_progress, token)
