"""Tiles see their neighbours: where the context around a tile covers the
network's receptive field, tiled output is exactly the whole image's; where it
does not, it differs (so the exact test can tell context from none).

The networks here are stacks of 3x3 convolutions with a known receptive field
(one pixel each side per convolution); the whole-image reference is the same
tiler with one tile, so the image border is treated the same in both."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artstudio.upscale import builtin, tiler
from artstudio.upscale import upscaling as up


class ConvStack:
    """An `Upscaler` at scale 1 made of `depth` random 3x3 convolutions: each
    output pixel depends on the input `depth` pixels around it, no further."""

    scale, multiple_of, minimum, preferred_tile = 1, 1, 1, 64

    def __init__(self, depth: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.depth = depth
        self.weights = [torch.randn(3, 3, 3, 3, generator=g, dtype=torch.float64) * 0.4
                        for _ in range(depth)]

    def with_options(self, options, cancel):
        return self

    def run(self, rgb: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(rgb, np.float64)).permute(2, 0, 1)[None]
        for i, w in enumerate(self.weights):
            x = torch.nn.functional.conv2d(x, w, padding=1)
            if i < self.depth - 1:
                x = torch.tanh(x)
        return torch.sigmoid(x)[0].permute(1, 2, 0).numpy()

    def run_alpha(self, alpha: np.ndarray) -> np.ndarray:
        return self.run(np.repeat(alpha[..., None], 3, axis=2))[..., 0]


def picture(h: int = 90, w: int = 110) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def whole_and_tiled(model, image, tile: int, overlap: int):
    whole = tiler.upscale_array(model, image, tile=max(image.shape[:2]) + 1, overlap=overlap)
    tiled = tiler.upscale_array(model, image, tile=tile, overlap=overlap)
    return whole.astype(int), tiled.astype(int)


@pytest.mark.parametrize("depth,overlap", [(6, 8), (8, 8), (12, 12)])
def test_context_covering_the_receptive_field_gives_exactly_the_whole_image(depth, overlap):
    whole, tiled = whole_and_tiled(ConvStack(depth), picture(), tile=48, overlap=overlap)
    assert np.array_equal(whole, tiled), np.abs(whole - tiled).max()


def test_too_little_context_shows():
    """A network that sees 12 px through 8 px of context: the tiles' borders
    differ from the whole image, so the exact test above does measure context."""
    whole, tiled = whole_and_tiled(ConvStack(12), picture(), tile=48, overlap=8)
    assert np.abs(whole - tiled).max() >= 2


def test_rgba_and_alpha_tiles_are_exact_too():
    image = np.concatenate([picture(), picture()[..., :1]], axis=2)
    whole, tiled = whole_and_tiled(ConvStack(6), image, tile=40, overlap=8)
    assert np.array_equal(whole, tiled)


@pytest.mark.parametrize("scale", [2, 4])
def test_builtin_networks_tiled_match_whole_to_float_rounding(scale):
    """The shipped compact networks (12 convolutions: they see 12 px) within
    the default 16 px of context (tiles of 64 px or more keep all 16). In
    float32 the blend of two equal values can land a rounding error off a .5
    boundary and round the other way: a level, on a handful of values."""
    model = up.load_upscaler(builtin.builtin_model_path(scale), "cpu")
    whole, tiled = whole_and_tiled(model, picture(136, 150), tile=64, overlap=16)
    differ = np.abs(whole - tiled)
    assert differ.max() <= 1 and np.count_nonzero(differ) <= 4


class Seeing(ConvStack):
    """A ConvStack that says how far it sees, and records the patches it gets."""

    def __init__(self, depth: int, seed: int = 0):
        super().__init__(depth, seed)
        self.receptive_radius = depth
        self.shapes: list[tuple[int, int]] = []

    def run(self, rgb: np.ndarray) -> np.ndarray:
        self.shapes.append(rgb.shape[:2])
        return super().run(rgb)


@pytest.mark.parametrize("tile", [48, 200])
def test_context_stops_at_what_the_network_sees_with_the_same_pixels(tile):
    plain, seeing = ConvStack(5), Seeing(5)
    image = picture(60, 70)
    before = tiler.upscale_array(plain, image, tile=tile, overlap=16)
    after = tiler.upscale_array(seeing, image, tile=tile, overlap=16)
    assert np.array_equal(before, after)
    if tile == 200:  # one tile: the image and 5 px of reflection each side, not 16
        assert seeing.shapes == [(70, 80)]
    else:
        assert max(h for h, _w in seeing.shapes) <= 48 + 2 * 5


class Hidden:
    """A model with its receptive field hidden: the tiler gives it the full context."""

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        if name == "receptive_radius":
            raise AttributeError(name)
        return getattr(self._model, name)


@pytest.mark.parametrize("scale", [2, 4])
def test_builtin_networks_see_twelve_pixels_and_keep_their_pixels(scale):
    model = up.load_upscaler(builtin.builtin_model_path(scale), "cpu")
    assert model.receptive_radius == 12  # 10 body convolutions, the first and the last
    image = picture(50, 64)
    full = tiler.upscale_array(Hidden(model), image, overlap=16).astype(int)
    trimmed = tiler.upscale_array(model, image, overlap=16).astype(int)
    assert trimmed.shape == full.shape == (50 * scale, 64 * scale, 3)
    assert np.abs(full - trimmed).max() <= 1  # float rounding of other sizes only
