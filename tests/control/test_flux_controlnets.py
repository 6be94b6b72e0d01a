"""FLUX.1 ControlNets with the tiny random FLUX.1 dev (tests/conftest.py's
tiny_flux) and tiny ControlNets over its transformer: a single-kind one
(InstantX's kind) and a union one with a mode embedding (InstantX's and
Shakker-Labs' union), each as a diffusers folder and as one file."""

from __future__ import annotations

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


def _params(model, **kw) -> GenerationParams:
    return control_params(model, **{"cfg_scale": 3.5, "scheduler": "flow_euler", **kw})


@pytest.fixture(scope="session")
def flux_nets(tiny_flux, tmp_path_factory):
    from diffusers import FluxTransformer2DModel
    from tiny_controlnets import build_tiny_flux_controlnet, save_folder_and_file

    transformer = FluxTransformer2DModel.from_pretrained(
        str(tiny_flux["flux-dev"]["diffusers"] / "transformer"))
    root = tmp_path_factory.mktemp("flux-control") / "models" / "controlnet"
    return {
        "canny": save_folder_and_file(build_tiny_flux_controlnet(transformer, seed=3), root,
                                      "FLUX.1-dev-Controlnet-Canny"),
        "union": save_folder_and_file(build_tiny_flux_controlnet(transformer, seed=4, modes=10),
                                      root, "FLUX.1-dev-ControlNet-Union-Pro"),
    }


@pytest.fixture
def flux(tiny_flux):
    return tiny_flux["flux-dev"]["diffusers"]




def _control(kind: str, net, **kw) -> ControlSpec:
    return ControlSpec(kind, drawing(), str(net), preprocess=False, **kw)


def _init(mode: str) -> dict:
    if mode == "txt2img":
        return {}
    mask = np.zeros((64, 64), np.float32)
    mask[16:48, 16:48] = 1.0
    picture = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return dict(init_image=picture, strength=0.8, mask=mask if mode == "inpaint" else None)


@pytest.mark.parametrize("mode", ["txt2img", "img2img", "inpaint"])
def test_a_flux_control_changes_the_picture_and_strength_zero_does_not(flux, flux_nets, mode,
                                                                      no_progress, token):
    extra = _init(mode)
    plain = _pixels(_params(flux, **extra), no_progress, token)
    net = flux_nets["canny"]["diffusers"]
    guided = _pixels(_params(flux, **extra, controls=(_control("canny", net),)),
                     no_progress, token)
    assert np.abs(guided - plain).mean() > 0.5
    zero = _pixels(_params(flux, **extra, controls=(_control("canny", net, strength=0.0),)),
                   no_progress, token)
    assert np.abs(zero - plain).max() <= 1


@pytest.mark.parametrize("which", ["canny", "union"])
def test_the_single_file_gives_the_folders_pixels(flux, flux_nets, which, no_progress, token):
    made = [_pixels(_params(flux, controls=(_control("depth", path),)), no_progress, token)
            for path in (flux_nets[which]["diffusers"], flux_nets[which]["single"])]
    assert np.array_equal(made[0], made[1])


def test_a_union_flux_controlnet_is_told_the_kind(flux, flux_nets, no_progress, token,
                                                  monkeypatch):
    from diffusers import FluxControlNetModel

    told = []
    forward = FluxControlNetModel.forward

    def recording(self, *args, controlnet_mode=None, **kwargs):
        told.append(int(controlnet_mode.flatten()[0]))
        return forward(self, *args, controlnet_mode=controlnet_mode, **kwargs)

    monkeypatch.setattr(FluxControlNetModel, "forward", recording)
    net = flux_nets["union"]["single"]
    canny = _pixels(_params(flux, controls=(_control("canny", net),)), no_progress, token)
    depth = _pixels(_params(flux, controls=(_control("depth", net),)), no_progress, token)
    # InstantX's numbering: 0 canny, 2 depth; one mode token among 512 of text in the
    # tiny model moves the picture only a little
    assert set(told[:3]) == {0} and set(told[3:]) == {2}
    assert np.abs(canny - depth).max() > 0
    with pytest.raises(UserFacingError, match="cannot read normal map controls"):
        run(_params(flux, controls=(_control("normal", net),)), no_progress, token)


def test_two_flux_controls_stack(flux, flux_nets, no_progress, token):
    first = _control("canny", flux_nets["canny"]["diffusers"])
    second = ControlSpec("depth", np.rot90(drawing()).copy(), str(flux_nets["union"]["single"]),
                         preprocess=False, strength=0.8)
    alone = _pixels(_params(flux, controls=(first,)), no_progress, token)
    both = _pixels(_params(flux, controls=(first, second)), no_progress, token)
    assert np.abs(both - alone).mean() > 0.2
    model = get_model(flux, device="cpu")
    built = model.derived["control-FluxControlNetPipeline"]
    assert type(built.controlnet).__name__ == "FluxMultiControlNetModel"
    assert built.transformer is model.pipe.transformer and built.vae is model.pipe.vae


def test_flux_refuses_what_it_cannot_do(tiny_flux, flux, flux_nets, tiny_controlnets,
                                        no_progress, token):
    net = flux_nets["canny"]["diffusers"]
    with pytest.raises(UserFacingError, match=r"cannot guide FLUX\.1 Fill"):
        run(_params(tiny_flux["flux-fill"]["diffusers"], init_image=drawing(), strength=1.0,
                    mask=np.ones((64, 64), np.float32), controls=(_control("canny", net),)),
            no_progress, token)
    with pytest.raises(UserFacingError, match=r"cannot guide this FLUX\.1 model"):
        run(_params(flux, controls=(_control("canny", tiny_controlnets["sd1-canny"]["single"]),)),
            no_progress, token)


def test_the_command_line_guides_a_flux_picture(flux, flux_nets, tiny_controlnets, tmp_path,
                                                capsys):
    from PIL import Image

    from artstudio.cli import main

    sketch = tmp_path / "sketch.png"
    Image.fromarray(drawing()).save(sketch)

    def generate(out, control):
        try:
            return main(["generate", "--model", str(flux), "--prompt", "a red cat", "--steps",
                         "2", "--seed", "5", "--width", "64", "--height", "64", "--device",
                         "cpu", "--out", str(out), "--control", control,
                         "--no-control-preprocess"])
        except SystemExit as exit_:
            return int(exit_.code)

    net = flux_nets["union"]["single"]
    assert generate(tmp_path / "guided.png", f"depth:{sketch}:{net}:0.8") == 0
    with Image.open(tmp_path / "guided.png") as guided:
        assert ('ControlNet 0: "Module: none, Model: FLUX.1-dev-ControlNet-Union-Pro, '
                'Weight: 0.8') in guided.text["parameters"]
    capsys.readouterr()
    sd15 = tiny_controlnets["sd1-canny"]["single"]
    assert generate(tmp_path / "refused.png", f"canny:{sketch}:{sd15}") == 2
    assert "cannot guide this FLUX.1 model" in capsys.readouterr().err
    assert not (tmp_path / "refused.png").exists()


def test_regions_are_refused_on_flux_rather_than_ignored(flux, no_progress, token):
    from artstudio.control.regions import RegionSpec

    mask = np.zeros((64, 64), np.float32)
    mask[:, :32] = 1.0
    with pytest.raises(UserFacingError, match="this model would ignore them"):
        run(_params(flux, regions=(RegionSpec(mask, "a stone wall"),)), no_progress, token)
