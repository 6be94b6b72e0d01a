"""Canvas size, image size, crop, merge, flatten, duplicate."""

from __future__ import annotations

import numpy as np
from conftest import noise, solid

from artstudio.document import Document, Rect, compose


def test_resize_canvas_with_anchor_moves_layers_and_mask():
    d = Document(10, 10)
    d.add_layer(solid(10, 10, (255, 0, 0, 255)))
    d.set_mask(np.full((10, 10), 200, np.uint8))
    d.resize_canvas(20, 16, anchor=(1.0, 0.5))
    assert d.size == (20, 16)
    assert (d.layer(0).x, d.layer(0).y) == (10, 3)
    assert d.mask[3, 10] == 200 and d.mask[0, 0] == 0
    assert tuple(d.composite()[5, 15]) == (255, 0, 0, 255)
    d.resize_canvas(4, 4, anchor=(0, 0))
    assert d.layer(0).pixels.shape == (10, 10, 4)  # pixels outside survive
    assert d.frame == Rect(0, 0, 4, 4)


def test_resize_image_scales_layers_mask_frame():
    d = Document(20, 10)
    d.add_layer(solid(10, 10, (0, 255, 0, 255)), x=10)
    d.set_frame(Rect(10, 0, 10, 10))
    d.resize_image(40, 20)
    assert d.size == (40, 20)
    assert d.layer(0).bounds == Rect(20, 0, 20, 20)
    assert d.mask.shape == (20, 40)
    assert d.frame == Rect(20, 0, 20, 20)
    assert tuple(d.layer(0).pixels[10, 10]) == (0, 255, 0, 255)


def test_crop_to_frame():
    d = Document(30, 30)
    d.add_layer(noise(30, 30, 1, opaque=True))
    d.add_layer(solid(5, 5, (1, 1, 1, 255)), x=0, y=0)  # entirely outside the crop
    before = d.composite().copy()
    d.set_frame(Rect(10, 5, 12, 8))
    d.crop_to_frame()
    assert d.size == (12, 8) and d.frame == Rect(0, 0, 12, 8)
    assert np.array_equal(d.composite(), before[5:13, 10:22])
    assert d.layer(0).pixels.shape == (8, 12, 4)


def test_merge_down_respects_blend_and_opacity():
    d = Document(16, 16)
    d.add_layer(noise(16, 16, 1, opaque=True), name="Base")
    d.add_layer(noise(10, 10, 2), x=8, y=8, blend="svg:multiply", opacity=0.5)
    before = d.composite().copy()
    merged = d.merge_down(1)
    assert len(d.layers) == 1 and merged.name == "Base"
    assert merged.bounds == Rect(0, 0, 18, 18)  # union, beyond the canvas
    assert np.array_equal(d.composite(), before)
    assert d.active_index == 0


def test_merge_down_of_normal_layers_is_associative():
    d = Document(16, 16)
    d.add_layer(noise(16, 16, 3, opaque=True))
    d.add_layer(noise(16, 16, 4))
    d.add_layer(noise(12, 12, 5), x=2, y=2, opacity=0.8)
    before = d.composite().copy()
    d.merge_down(2)
    assert np.abs(d.composite().astype(int) - before).max() <= 1


def test_flatten_drops_hidden_and_keeps_appearance():
    d = Document(16, 16)
    d.add_layer(noise(16, 16, 1, opaque=True))
    d.add_layer(noise(16, 16, 2), blend="svg:overlay")
    d.add_layer(solid(16, 16, (255, 255, 255, 255)), visible=False)
    before = d.composite().copy()
    d.flatten()
    assert len(d.layers) == 1
    assert np.array_equal(d.composite(), before)


def test_duplicate_is_independent():
    d = Document(8, 8)
    d.add_layer(solid(8, 8, (5, 5, 5, 255)), name="Ink", blend="svg:multiply")
    copy = d.duplicate_layer(0)
    assert copy.name == "Ink copy" and copy.blend.value == "svg:multiply"
    assert d.active_index == 1
    assert copy.pixels is not d.layer(0).pixels
    assert compose(d.layers, d.rect).shape == (8, 8, 4)
