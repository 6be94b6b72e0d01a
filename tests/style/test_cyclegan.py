"""CycleGAN generators: the release's state-dict format loads with its
architecture detected, runs tiled, and a hostile pickle is refused unrun."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch
from test_style import change, picture  # the same generated pictures

from artstudio.model_files.safe_load import UnsafeModelError
from artstudio.selftest.random_models import save_random_generator
from artstudio.style.cyclegan import (
    GeneratorShape,
    GeneratorUpscaler,
    NotACycleGANError,
    build_generator,
    infer_shape,
    load_generator,
    run_generator,
)
from artstudio.style.transfer import StyleOptions, stylize
from artstudio.upscale.protocol import Upscaler


@pytest.mark.parametrize("n_blocks", [6, 9])
def test_release_format_loads_with_detected_architecture(tmp_path, n_blocks):
    path = tmp_path / f"latest_net_G_{n_blocks}.pth"
    save_random_generator(path, n_blocks=n_blocks, ngf=8, seed=n_blocks)
    state = torch.load(path, weights_only=True)
    # the public release's key layout
    assert "model.1.weight" in state and "model.10.conv_block.1.weight" in state
    assert f"model.{10 + n_blocks + 7}.weight" in state  # the final 7x7 conv
    net = load_generator(path)
    assert net.shape == GeneratorShape(ngf=8, n_blocks=n_blocks)
    rgba = picture(64, 80, alpha=200)
    out = stylize(rgba, StyleOptions.cyclegan(path, device="cpu"))
    assert out.shape == rgba.shape and (out[..., 3] == rgba[..., 3]).all()
    assert change(out, rgba) > 10


def test_variants_are_detected_from_keys():
    torch.manual_seed(0)
    for shape in (GeneratorShape(ngf=4, n_blocks=2, dropout=True),
                  GeneratorShape(ngf=4, n_blocks=3, norm="batch"),
                  GeneratorShape(ngf=4, n_blocks=2, affine=True, in_channels=1, out_channels=3)):
        state = build_generator(shape).state_dict()
        assert infer_shape(state) == shape


def test_old_instance_norm_stats_are_ignored(tmp_path):
    shape = GeneratorShape(ngf=4, n_blocks=2)
    state = build_generator(shape).state_dict()
    state["model.2.running_mean"] = torch.zeros(4)  # as old PyTorch saved them
    path = tmp_path / "old.pth"
    torch.save(state, path)
    assert load_generator(path).shape == shape


def test_tiles_join_without_visible_seams():
    torch.manual_seed(1)
    net = build_generator(GeneratorShape(ngf=4, n_blocks=2)).eval()
    rgb = picture(150, 170)[..., :3].astype(np.float32) / 255
    whole = run_generator(net, rgb, tile=512)
    tiled = run_generator(net, rgb, tile=96, overlap=24)
    assert tiled.shape == whole.shape == rgb.shape
    # instance norm per tile differs a little from the whole (a random net
    # exaggerates this); how the tiles join is measured below
    assert np.abs(tiled - whole).mean() < 0.15


class TileMeanShift(torch.nn.Module):
    """What instance normalisation does to tiles, made plain: each tile is
    shifted by its own mean, so neighbouring tiles of a gradient disagree by
    tens of levels. Only feathering over the overlap hides that."""

    def forward(self, x):
        return torch.tanh(2 * (x - x.mean(dim=(2, 3), keepdim=True)))


def test_feathering_spreads_the_tiles_disagreement_over_the_overlap():
    h, w = 200, 300
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = xx / w * 0.6 + yy / h * 0.4
    rgb = np.stack([g, 1 - g, g * 0.5 + 0.25], -1).astype(np.float32)
    whole = run_generator(TileMeanShift(), rgb, tile=512)
    tiled = run_generator(TileMeanShift(), rgb, tile=96)  # 24 px of overlap
    assert np.abs(tiled - whole).max() > 40 / 255  # the tiles do disagree
    for axis in (0, 1):
        # tiles disagree by about 50 levels, spread over 24 px: 2 levels a pixel at most
        steepest = np.abs(np.diff(tiled, axis=axis)).max()
        assert steepest <= np.abs(np.diff(whole, axis=axis)).max() + 2.5 / 255, axis


def test_an_image_within_one_tile_runs_whole():
    # No reflected border is added: instance norm sees the picture alone.
    torch.manual_seed(1)
    net = build_generator(GeneratorShape(ngf=4, n_blocks=2)).eval()
    rgb = picture(96, 120)[..., :3].astype(np.float32) / 255
    with torch.inference_mode():
        direct = net(torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None] * 2 - 1)
    direct = ((direct[0].numpy().transpose(1, 2, 0) + 1) / 2).clip(0, 1)
    assert np.abs(run_generator(net, rgb, tile=512) - direct).max() <= 0.5 / 255 + 1e-6


def test_out_of_memory_halves_the_tile_and_carries_on():
    torch.manual_seed(1)
    net = build_generator(GeneratorShape(ngf=4, n_blocks=2)).eval()
    assert isinstance(GeneratorUpscaler(net), Upscaler)  # the upscalers' tiler runs it
    rgb = picture(240, 272)[..., :3].astype(np.float32) / 255
    whole = run_generator(net, rgb, tile=512)
    sides = []

    def tight_memory(x):
        sides.append(max(x.shape[-2:]))
        if sides[-1] > 220:  # a tile and its context (64 px a side inside) must stay small
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return net(x)

    steps = []
    recovered = run_generator(tight_memory, rgb, tile=512, on_tile=lambda i, n: steps.append(n))
    assert sides[0] > 220 and max(sides[1:]) > 220 and min(sides) <= 220  # split, split again
    assert recovered.shape == whole.shape == rgb.shape
    assert steps[-1] == len(steps) > 4  # every tile run reported, the total grown with splits
    assert np.abs(recovered - whole).mean() < 0.15  # the tolerance of tiled against whole
    seam_jump = np.abs(np.diff(recovered, axis=1)).mean()
    assert seam_jump < 2 * np.abs(np.diff(whole, axis=1)).mean() + 0.01


def test_not_a_generator_is_refused_clearly(tmp_path):
    path = tmp_path / "upscaler.pth"
    torch.save({"conv_first.weight": torch.zeros(8, 3, 3, 3)}, path)
    with pytest.raises(NotACycleGANError, match="not a CycleGAN"):
        load_generator(path)


class _Payload:
    """Unpickling this would create a marker file (a stand-in for real harm)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil_net_G.pth"
    state = build_generator(GeneratorShape(ngf=4, n_blocks=2)).state_dict()
    state["extra"] = _Payload(str(marker))
    torch.save(state, path)  # torch.save pickles the payload object
    with open(path, "rb") as fh:  # prove the file really carries the payload
        assert b"makedirs" in fh.read()
    with pytest.raises(UnsafeModelError, match="arbitrary code"):
        load_generator(path)
    with pytest.raises(UnsafeModelError):
        stylize(picture(32, 32), StyleOptions.cyclegan(path, device="cpu"))
    assert not marker.exists()
    # and a plain (non-zip) pickle is refused the same way
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(UnsafeModelError, match="arbitrary code"):
        load_generator(legacy)
    assert not marker.exists()
