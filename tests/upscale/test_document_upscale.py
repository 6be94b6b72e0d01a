"""Upscaling an open document without a window: the snapshot, the worker
function and applying the result, with Lanczos (no model) so each runs in
milliseconds."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.engine import Lane, RequestRefused
from artstudio.upscale.document_upscale import (
    DocumentUpscale,
    add_upscaled_layer,
    apply_document_upscale,
    lane_for,
    region_to_upscale,
    run_document_upscale,
    run_region_upscale,
)
from artstudio.upscale.upscaling import UpscaleOptions, upscale

LANCZOS = UpscaleOptions(model=None, scale=2.0)


def quiet(*args, **kwargs):
    return None


def test_whole_image_upscale_scales_every_layer_mask_and_frame_in_one_step():
    doc = new_document(20, 10)
    patch = np.full((4, 6, 4), (200, 30, 30, 255), np.uint8)
    doc.add_layer(patch, name="patch", x=3, y=2)
    doc.set_frame(Rect(2, 2, 10, 6))
    snapshot = DocumentUpscale.of(doc, LANCZOS)
    assert (snapshot.width, snapshot.height) == (40, 20)
    assert [rect for _uid, _px, rect in snapshot.layers][-1] == Rect(6, 4, 12, 8)
    doc.layer(2).pixels[...] = 0  # the snapshot holds copies
    assert snapshot.layers[-1][1].any()

    steps = []
    scaled = run_document_upscale(snapshot, lambda *a: steps.append(a[:2]), None)
    assert steps[-1] == (3, 3)
    assert not scaled[doc.layer(1).uid].any()  # the empty layer skipped the upscaler
    assert np.array_equal(scaled[doc.layer(2).uid], upscale(patch, LANCZOS))
    apply_document_upscale(doc, snapshot, scaled)
    assert doc.size == (40, 20)
    moved = doc.layer(2)
    assert (moved.x, moved.y, moved.width, moved.height) == (6, 4, 12, 8)
    assert tuple(doc.frame) == (4, 4, 20, 12)
    assert doc.undo_label == "Upscale image"
    doc.undo()
    assert doc.size == (20, 10)


def test_layer_region_is_its_painted_part_with_its_look():
    doc = new_document(30, 20)
    content = np.zeros((20, 30, 4), np.uint8)
    content[5:9, 10:16] = (30, 200, 40, 255)
    doc.add_layer(content, name="sketch", x=2, y=1, opacity=0.5, blend="svg:multiply")
    region = region_to_upscale(doc, "layer", LANCZOS)
    assert region.rect == Rect(12, 6, 6, 4)
    assert region.pixels.shape == (4, 6, 4) and (region.pixels[..., 3] == 255).all()
    assert region.layer_props["name"] == "sketch (upscaled)"

    big = run_region_upscale(region, quiet, None)
    assert big.shape == (8, 12, 4)
    layer = add_upscaled_layer(doc, region, big)
    assert (layer.x, layer.y) == (12 + (6 - 12) // 2, 6 + (4 - 8) // 2)  # centred
    assert (layer.opacity, layer.blend.value) == (0.5, "svg:multiply")
    assert doc.undo_label == "Upscale into new layer"


def test_frame_region_is_the_visible_image_inside_the_canvas():
    doc = new_document(16, 16, (250, 0, 0, 255))
    doc.set_frame(Rect(10, 10, 20, 20))
    region = region_to_upscale(doc, "frame", LANCZOS)
    assert region.rect == Rect(10, 10, 6, 6)
    assert (region.pixels[..., 0] == 250).all()
    assert region.name == "Frame (upscaled)"


@pytest.mark.parametrize("setup,target,says", [
    (lambda doc: doc.add_layer(name="empty"), "layer", "empty: nothing to upscale"),
    (lambda doc: doc.set_frame(Rect(40, 40, 8, 8)), "frame", "outside the canvas"),
])
def test_nothing_to_upscale_is_refused_with_a_reason(setup, target, says):
    doc = new_document(16, 16)
    setup(doc)
    with pytest.raises(RequestRefused, match=says):
        region_to_upscale(doc, target, LANCZOS)


def test_models_use_the_accelerator_and_lanczos_the_pool():
    assert lane_for(LANCZOS) is Lane.POOL
    assert lane_for(UpscaleOptions(model="builtin")) is Lane.ACCELERATOR
