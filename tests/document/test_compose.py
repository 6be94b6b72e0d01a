"""Blend formulas against hand-computed numbers, and the dirty-region cache."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import noise, solid

from artstudio.document import BlendMode, Brush, BrushSettings, Document, Layer, Rect, compose
from artstudio.document.compose import CACHE_TILE

# Backdrop (0.8, 0.4, 0.2) opaque; source (0.4, 0.6, 1.0) opaque at 60 % opacity.
# Opaque backdrop: result = 0.4·Cb + 0.6·B(Cb, Cs), worked by hand per mode.
EXPECTED = {
    BlendMode.NORMAL: (143, 133, 173),      # B = Cs
    BlendMode.MULTIPLY: (131, 78, 51),      # B = (.32, .24, .2)
    BlendMode.SCREEN: (216, 157, 173),      # B = (.88, .76, 1)
    BlendMode.OVERLAY: (198, 114, 82),      # B = (.76, .48, .4)
    BlendMode.DARKEN: (143, 102, 51),       # B = (.4, .4, .2)
    BlendMode.LIGHTEN: (204, 133, 173),     # B = (.8, .6, 1)
    BlendMode.DIFFERENCE: (143, 71, 143),   # B = (.4, .2, .8)
    BlendMode.ADD: (235, 194, 173),         # B = min(1, Cb + Cs) = (1, 1, 1)
}


@pytest.mark.parametrize("mode", list(BlendMode))
def test_blend_modes_match_hand_computed_values(mode):
    back = Layer(solid(2, 2, (204, 102, 51, 255)))
    top = Layer(solid(2, 2, (102, 153, 255, 255)), opacity=0.6, blend=mode)
    out = compose([back, top], Rect(0, 0, 2, 2))
    assert tuple(out[0, 0]) == (*EXPECTED[mode], 255)


def test_normal_over_half_transparent_backdrop():
    back = Layer(solid(1, 1, (255, 0, 0, 102)))      # alpha 0.4
    top = Layer(solid(1, 1, (0, 0, 255, 255)), opacity=0.4)
    # αo = .4 + .4·.6 = .64; R = .4·.6/.64 = .375; B = .4/.64 = .625
    assert tuple(compose([back, top], Rect(0, 0, 1, 1))[0, 0]) == (96, 0, 159, 163)


@pytest.mark.parametrize("mode", list(BlendMode))
def test_any_mode_over_nothing_is_the_source(mode):
    top = Layer(solid(1, 1, (10, 200, 30, 128)), blend=mode)
    assert tuple(compose([top], Rect(0, 0, 1, 1))[0, 0]) == (10, 200, 30, 128)


def test_hidden_layers_offsets_and_transparent_outside():
    a = Layer(solid(4, 4, (255, 0, 0, 255)), x=2, y=1)
    b = Layer(solid(4, 4, (0, 255, 0, 255)), visible=False)
    out = compose([a, b], Rect(0, 0, 8, 8))
    assert tuple(out[0, 0]) == (0, 0, 0, 0)
    assert tuple(out[1, 2]) == (255, 0, 0, 255)
    assert tuple(out[4, 5]) == (255, 0, 0, 255)
    assert tuple(out[5, 6]) == (0, 0, 0, 0)


def test_background_flattening_for_jpeg():
    top = Layer(solid(1, 1, (0, 0, 0, 51)))  # 20 % black over white = 204
    out = compose([top], Rect(0, 0, 1, 1), background=(255, 255, 255))
    assert tuple(out[0, 0]) == (204, 204, 204, 255)


def test_cache_recomputes_only_dirty_tiles():
    doc = Document(512, 512)
    doc.add_layer(noise(512, 512, 3, opaque=True))
    doc.add_layer(noise(300, 300, 4), x=100, y=100, blend="svg:screen", opacity=0.5)
    doc.composite()
    full = doc.compositor.pixels_recomputed
    assert full == 512 * 512
    assert doc.compositor.last_recomputed  # the first call composed everything

    doc.composite()
    assert doc.compositor.last_recomputed == []  # nothing dirty: nothing composed

    brush = Brush(BrushSettings(size=10, color=(255, 0, 0)))
    brush.begin_stroke(doc, 20, 20, target=0)
    brush.end_stroke()
    image = doc.composite()
    recomputed = doc.compositor.last_recomputed
    assert recomputed == [Rect(0, 0, CACHE_TILE, CACHE_TILE)]
    assert doc.compositor.pixels_recomputed == full + CACHE_TILE * CACHE_TILE
    # ... and the cached image equals a from-scratch flatten.
    assert np.array_equal(image, compose(doc.layers, doc.rect))


def test_property_change_invalidates_only_layer_bounds():
    doc = Document(512, 512)
    doc.add_layer(noise(512, 512, 3, opaque=True))
    doc.add_layer(noise(60, 60, 4), x=300, y=300)
    doc.composite()
    doc.set_layer_opacity(1, 0.3)
    doc.composite()
    union = Rect(0, 0, 0, 0)
    for r in doc.compositor.last_recomputed:
        union = union.union(r)
    assert Rect(256, 256, 128, 128).contains(union)
    assert np.array_equal(doc.composite(), compose(doc.layers, doc.rect))
