"""Merge Down keeps the picture wherever one layer can, and says when it
cannot (issue 11 item 12)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import noise

from artstudio.document import Document

MODES = ("svg:src-over", "svg:multiply", "svg:screen", "svg:overlay", "svg:darken",
         "svg:lighten", "svg:difference", "svg:plus")


def stack(lower_blend: str, lower_opacity: float, upper_blend: str, upper_opacity: float,
          *, lower_opaque: bool = False, background: bool = True) -> Document:
    """A background, a lower layer and an upper one that overlap in part."""
    doc = Document(64, 48)
    if background:
        doc.add_layer(noise(64, 48, 1, opaque=True), name="Background")
    doc.add_layer(noise(50, 40, 2, opaque=lower_opaque), name="Lower", x=4, y=2,
                  opacity=lower_opacity, blend=lower_blend)
    upper_x = 10 if not lower_opaque else 8  # inside the lower when that must cover it
    doc.add_layer(noise(40, 30, 3), name="Upper", x=upper_x, y=6, opacity=upper_opacity,
                  blend=upper_blend)
    return doc


def max_change(doc: Document, merge) -> int:
    before = doc.composite().astype(int).copy()
    merge()
    return int(np.abs(doc.composite().astype(int) - before).max())


@pytest.mark.parametrize("lower_opacity", [1.0, 0.47, 0.2])
@pytest.mark.parametrize("upper_opacity", [1.0, 0.47])
def test_normal_onto_normal_at_any_opacity_keeps_the_picture(lower_opacity, upper_opacity):
    doc = stack("svg:src-over", lower_opacity, "svg:src-over", upper_opacity)
    top = len(doc.layers) - 1
    assert doc.merge_down_is_exact(top)
    assert max_change(doc, lambda: doc.merge_down(top)) <= 1  # rounding to 8 bits
    merged = doc.layers[-1]
    assert (merged.blend.value, merged.opacity) == ("svg:src-over", 1.0)
    assert len(doc.layers) == 2


@pytest.mark.parametrize("upper_blend", MODES)
def test_any_mode_onto_an_opaque_normal_layer_keeps_the_picture(upper_blend):
    doc = stack("svg:src-over", 1.0, upper_blend, 0.8, lower_opaque=True)
    assert doc.merge_down_is_exact(2)
    assert max_change(doc, lambda: doc.merge_down(2)) <= 1


@pytest.mark.parametrize("lower_blend", MODES)
@pytest.mark.parametrize("upper_blend", ["svg:src-over", "svg:multiply", "svg:difference"])
def test_with_nothing_beneath_any_modes_keep_the_picture(lower_blend, upper_blend):
    doc = stack(lower_blend, 0.6, upper_blend, 0.47, background=False)
    assert doc.merge_down_is_exact(1)
    assert max_change(doc, lambda: doc.merge_down(1)) <= 1


def test_normal_onto_difference_is_detected_and_merge_visible_keeps_the_picture():
    """The reported case: a 47 % Normal layer onto a Difference layer."""
    doc = stack("svg:difference", 1.0, "svg:src-over", 0.47)
    assert not doc.merge_down_is_exact(2)
    doc.add_layer(noise(20, 20, 4), name="Above", x=30, y=20, opacity=0.5,
                  blend="svg:screen")  # layers above the merge stay as they were
    hidden = doc.add_layer(noise(8, 8, 5), name="Hidden", index=0, visible=False)
    before = doc.composite().astype(int).copy()

    merged = doc.merge_visible_down(3)
    assert int(np.abs(doc.composite().astype(int) - before).max()) <= 1
    assert [layer.name for layer in doc.layers] == ["Hidden", "Upper", "Above"]
    assert doc.layers[0] is hidden and doc.layers[1] is merged
    assert doc.active_index == 1
    doc.undo()
    assert np.array_equal(doc.composite(), before)


@pytest.mark.parametrize(("lower", "upper", "lower_opaque"), [
    ("svg:difference", "svg:src-over", False),
    ("svg:screen", "svg:multiply", False),
    ("svg:src-over", "svg:multiply", False),  # the lower lets the background through
    ("svg:src-over", "svg:screen", True),  # opaque, but seen at half opacity
])
def test_inexact_merges_are_detected(lower, upper, lower_opaque):
    opacity = 0.5 if lower_opaque else 1.0
    doc = stack(lower, opacity, upper, 0.47, lower_opaque=lower_opaque)
    assert not doc.merge_down_is_exact(2)
    assert max_change(doc, lambda: doc.merge_down(2)) > 1  # the warning is not idle


def test_a_hidden_upper_layer_merges_to_the_lower_as_it_was():
    doc = stack("svg:difference", 0.7, "svg:src-over", 0.47)
    doc.set_layer_visible(2, False)
    assert doc.merge_down_is_exact(2)
    assert max_change(doc, lambda: doc.merge_down(2)) == 0
    assert (doc.layers[1].blend.value, doc.layers[1].opacity) == ("svg:difference", 0.7)
