"""Applying results in the window: the size fields follow the frame, a result
of another size keeps its aspect ratio and says so, text-to-image results go
into any document, restyles are named after their style and stack visibly
(issue 11, items 3 and 7)."""

from __future__ import annotations

import numpy as np
import pytest
from panel_jobs import generate_and_wait

from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.engine import JobState
from artstudio.model_files.identify import identify


@pytest.fixture
def panel(studio, tiny_models):
    panel = studio.window.generate_panel
    panel.set_models([identify(tiny_models["sd1"]["diffusers"])])
    studio.window.documents.set_document(new_document(256, 256))
    panel.steps.setValue(2)
    panel.seed.setValue(4)
    return panel




def test_greyed_size_fields_show_the_frame_and_follow_it(panel, studio):
    assert panel.match_frame.isChecked() and not panel.width_box.isEnabled()
    assert (panel.width_box.value(), panel.height_box.value()) == (256, 256)
    panel.doc.set_frame(Rect(16, 8, 200, 120))
    assert (panel.width_box.value(), panel.height_box.value()) == (200, 120)
    panel.doc.set_frame(Rect(150, 100, 200, 200))  # partly outside: what a job gets
    assert (panel.width_box.value(), panel.height_box.value()) == (106, 156)
    old = panel.doc
    studio.window.documents.set_document(new_document(320, 144))
    assert (panel.width_box.value(), panel.height_box.value()) == (320, 144)
    old.set_frame(Rect(0, 0, 64, 64))  # the closed document no longer drives the panel
    assert (panel.width_box.value(), panel.height_box.value()) == (320, 144)
    panel.match_frame.setChecked(False)
    panel.width_box.setValue(192)
    panel.doc.set_frame(Rect(0, 0, 100, 100))
    assert panel.width_box.isEnabled() and panel.width_box.value() == 192  # the artist's own


def test_a_smaller_result_is_placed_at_its_own_size_and_the_status_bar_says_so(
        panel, studio, qtbot):
    panel.prompt.setPlainText("a hill")
    panel.match_frame.setChecked(False)
    panel.width_box.setValue(192)
    panel.height_box.setValue(128)
    generate_and_wait(panel, qtbot)
    image = np.asarray(panel.results.current.image)
    layer = panel.apply_selected()
    assert (layer.x, layer.y, layer.width, layer.height) == (32, 64, 192, 128)
    assert np.array_equal(layer.pixels[..., :3], image)  # not stretched, not resampled
    note = studio.window.status_message.text()
    assert "own size, 192x128, centred in the 256x256 frame" in note
    assert note == panel.status.text()


def test_a_text_to_image_result_goes_into_another_document(panel, studio, qtbot):
    panel.prompt.setPlainText("a hill")
    panel.doc.set_frame(Rect(0, 0, 64, 64))
    generate_and_wait(panel, qtbot)
    other = new_document(128, 128)
    other.set_frame(Rect(32, 32, 64, 64))
    studio.window.documents.set_document(other)
    layer = panel.apply_selected()
    assert layer is not None, panel.status.text()
    assert layer in other.layers and (layer.x, layer.y) == (32, 32)


def test_restyles_are_named_after_their_style_and_the_second_shows_above_the_first(
        studio, qtbot):
    style = studio.window.style_panel
    doc = new_document(64, 48)
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    doc.set_layer_pixels(0, pixels)
    doc.rename_layer(0, "img00")
    doc.active_index = 0
    studio.window.documents.set_document(doc)
    made = []
    for index in (9, 14):  # mosaic, frost
        doc.active_index = 0  # the artist restyles the same source again
        style.chooser.select_styles([index])
        handle = style.stylize()
        qtbot.waitUntil(lambda h=handle: h.state.finished, timeout=60000)
        assert handle.state is JobState.DONE, handle.error
        qtbot.waitUntil(lambda: style._result is not None, timeout=5000)
        made.append(style.apply_result())
    first, second = made
    assert (first.name, second.name) == ("img00 (Mosaic)", "img00 (Frost)")
    assert doc.index_of(second) == doc.index_of(first) + 1 == 2
    assert second.visible and doc.active_layer is second
    assert np.array_equal(doc.composite()[..., :3], second.pixels[..., :3])
