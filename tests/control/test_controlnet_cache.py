"""The ControlNets kept on a loaded model stay within a budget (a count and a
share of the device's free memory), give the same pixels as a cold load, and
go when the model unloads."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from test_control_generation import drawing

from artstudio.control import controlnet_cache
from artstudio.control.spec import ControlSpec
from artstudio.diffusion.generate import run
from artstudio.diffusion.loading import get_model
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.model_cache import shared_cache


@pytest.fixture(scope="module")
def three_nets(tiny, tmp_path_factory):
    """Three different tiny SD1 ControlNets, as folders."""
    from diffusers import UNet2DConditionModel
    from tiny_controlnets import build_tiny_controlnet

    unet = UNet2DConditionModel.from_pretrained(str(tiny["sd1"]["diffusers"] / "unet"))
    root = tmp_path_factory.mktemp("three-controlnets")
    made = []
    for seed, kind in ((11, "canny"), (12, "depth"), (13, "lineart")):
        folder = root / f"control_tiny_sd15_{kind}"
        build_tiny_controlnet(unet, seed).save_pretrained(str(folder), safe_serialization=True)
        made.append(folder)
    return made


@pytest.fixture
def cold(tiny):
    shared_cache().unload_all()
    yield tiny["sd1"]["diffusers"]
    shared_cache().unload_all()


def _run(model, net, no_progress, token) -> np.ndarray:
    p = GenerationParams(model=str(model), prompt="a red cat", steps=2, width=64, height=64,
                         seed=3, device="cpu", preview_every=0,
                         controls=(ControlSpec("canny", drawing(), str(net), preprocess=False),))
    return np.asarray(run(p, no_progress, token).images[0]).astype(int)


def test_switching_among_more_controlnets_than_the_budget_keeps_the_budget(
        cold, three_nets, monkeypatch, no_progress, token):
    first = {net.name: _run(cold, net, no_progress, token) for net in three_nets}
    model = get_model(cold, device="cpu")
    assert len(model.controlnets) == 3  # the default budget holds all three
    shared_cache().unload_all()

    monkeypatch.setattr(controlnet_cache, "MAX_KEPT", 2)
    for net in [*three_nets, *three_nets[::-1], three_nets[1]]:
        pixels = _run(cold, net, no_progress, token)
        model = get_model(cold, device="cpu")
        assert len(model.controlnets) <= 2
        assert str(net.resolve()) in model.controlnets  # the one just used is kept
        assert np.array_equal(pixels, first[net.name])  # as from a cold load
    # least recently used go first: the last two used are the ones kept
    assert set(model.controlnets) == {str(three_nets[1].resolve()), str(three_nets[0].resolve())}
    # no ControlNet pipeline holds one that was let go
    for name, pipe in model.derived.items():
        if name.startswith("control-"):
            assert pipe.controlnet in model.controlnets.values()


def test_a_device_with_little_free_memory_keeps_only_the_one_in_use(cold, three_nets,
                                                                     monkeypatch,
                                                                     no_progress, token):
    monkeypatch.setattr(controlnet_cache, "free_memory_bytes", lambda device: 0)
    for net in three_nets:
        _run(cold, net, no_progress, token)
        assert list(get_model(cold, device="cpu").controlnets) == [str(net.resolve())]


def test_kept_controlnets_go_when_the_model_unloads(cold, three_nets, no_progress, token):
    _run(cold, three_nets[0], no_progress, token)
    net = weakref.ref(next(iter(get_model(cold, device="cpu").controlnets.values())))
    assert net() is not None
    shared_cache().unload_all()
    gc.collect()
    assert net() is None
