"""Double-clicking a History entry restores every parameter that made its
images, so Generate makes the same images again, and says what it could not
restore (issue 11, item 6)."""

from __future__ import annotations

import numpy as np
import pytest
from panel_jobs import generate_and_wait
from PIL import Image
from PySide6.QtCore import Qt

from artstudio.diffusion.history import HistoryEntry
from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.model_files.identify import identify


@pytest.fixture
def window(studio, tiny_models, qtbot, monkeypatch):
    window = studio.window
    # The start-up scan would find no models in the test's home and empty the list.
    monkeypatch.setattr(window.generate_panel, "refresh_models", lambda: None)
    window.show()
    qtbot.waitExposed(window)
    panel = window.generate_panel
    panel.set_models([identify(tiny_models["sd1"]["diffusers"]),
                      identify(tiny_models["sd1-inpaint"]["single"])])
    doc = new_document(96, 64)
    painted = doc.layer(0).pixels.copy()
    painted[:, :48] = (90, 140, 200, 255)
    doc.set_layer_pixels(0, painted)
    window.documents.set_document(doc)
    return window


def choose(combo, key):
    combo.setCurrentIndex(combo.findData(key))


def double_click_newest(panel, qtbot):
    panel.tabs.setCurrentIndex(1)
    view = panel.history_list
    qtbot.waitUntil(view.isVisible, timeout=5000)
    view.scrollToItem(view.item(0))
    rect = view.visualItemRect(view.item(0))
    assert rect.isValid() and view.viewport().rect().contains(rect.center()), rect
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def inpaint_once(window, qtbot):
    panel, doc = window.generate_panel, window.doc
    doc.set_frame(Rect(8, 8, 64, 48))
    mask = np.zeros((64, 96), np.uint8)
    mask[20:44, 30:70] = 255
    doc.set_mask(mask)
    choose(panel.mode, "inpaint")
    panel.model.setCurrentIndex(1)
    panel.prompt.setPlainText("a round window")
    panel.negative.setPlainText("blurry")
    panel.steps.setValue(2)
    panel.cfg.setValue(5.5)
    choose(panel.sampler, "dpmpp_2m")
    panel.seed.setValue(-1)  # Random: the seeds used are only in the results
    choose(panel.seed_mode, "increment")
    panel.count.setValue(2)
    panel.strength.setValue(0.6)
    panel.mask_blur.setValue(3)
    panel.padding.setValue(10)
    panel.only_masked.setChecked(False)
    generate_and_wait(panel, qtbot)
    return [np.asarray(c.image).copy() for c in panel.results.candidates]


def scramble(panel, doc):
    """Everything else, as the artist may have left it since."""
    choose(panel.mode, "txt2img")
    panel.model.setCurrentIndex(0)
    panel.prompt.setPlainText("something else")
    panel.negative.setPlainText("")
    panel.steps.setValue(7)
    panel.cfg.setValue(9.0)
    choose(panel.sampler, "euler_a")
    panel.seed.setValue(-1)
    choose(panel.seed_mode, "random")
    panel.count.setValue(1)
    panel.strength.setValue(0.9)
    panel.mask_blur.setValue(8)
    panel.padding.setValue(40)
    panel.only_masked.setChecked(True)
    doc.reset_frame()


def test_history_restores_every_parameter_and_the_same_images_come_again(window, qtbot):
    panel, doc = window.generate_panel, window.doc
    first = inpaint_once(window, qtbot)
    seeds = [c.seed for c in panel.results.candidates]
    scramble(panel, doc)
    double_click_newest(panel, qtbot)
    assert panel.mode.currentData() == "inpaint"
    assert panel.model.currentIndex() == 1
    assert panel.prompt.toPlainText() == "a round window"
    assert panel.negative.toPlainText() == "blurry"
    assert (panel.steps.value(), panel.cfg.value(), panel.sampler.currentData()) == \
        (2, 5.5, "dpmpp_2m")
    assert panel.seed.value() == seeds[0] and panel.seed.text() != "Random"
    assert panel.seed_mode.currentData() == "increment"
    assert panel.count.value() == 2
    assert (panel.strength.value(), panel.mask_blur.value(), panel.padding.value()) == \
        (0.6, 3, 10)
    assert not panel.only_masked.isChecked()
    assert doc.frame == Rect(8, 8, 64, 48) and panel.match_frame.isChecked()
    assert "Not restored" not in panel.status.text()
    assert window.status_message.text() == "Settings restored from the history"

    panel.results.candidates.clear()
    generate_and_wait(panel, qtbot)
    assert [c.seed for c in panel.results.candidates[-2:]] == seeds
    again = [np.asarray(c.image) for c in panel.results.candidates[-2:]]
    for before, after in zip(first, again, strict=True):
        np.testing.assert_array_equal(before, after)


def test_what_cannot_be_restored_is_said_in_the_status_bar(window, qtbot, tiny_models):
    panel, doc = window.generate_panel, window.doc
    inpaint_once(window, qtbot)
    doc.clear_mask()
    painted = doc.layer(0).pixels.copy()
    painted[30:40, 10:20] = (250, 0, 0, 255)
    doc.set_layer_pixels(0, painted)
    panel.set_models([identify(tiny_models["sd1"]["diffusers"])])  # the inpaint file is gone
    double_click_newest(panel, qtbot)
    said = window.status_message.text()
    assert said.startswith("Settings restored from the history. Not restored:")
    assert "the mask it was made with" in said
    assert "the picture it started from" in said
    assert "sd1-inpaint" in said and "not found" in said
    assert panel.mode.currentData() == "inpaint"  # what could be restored was


def test_a_frame_that_no_longer_fits_is_reported_and_the_size_kept(window, qtbot):
    panel = window.generate_panel
    entry = HistoryEntry(1.0, {"prompt": "sea", "mode": "txt2img", "width": 200,
                               "height": 120, "frame": [0, 0, 200, 120], "count": 1},
                         "", [7])
    panel.restore_entry(entry)
    assert "the frame 200x120 at 0,0 (it does not fit this canvas)" in panel.status.text()
    assert not panel.match_frame.isChecked()
    assert (panel.width_box.value(), panel.height_box.value()) == (200, 120)


def test_seeds_past_two_to_the_31_come_back_exactly(window):
    panel = window.generate_panel
    panel.restore_entry(HistoryEntry(1.0, {"prompt": "sea", "mode": "txt2img"}, "",
                                     [4_000_000_000]))
    assert panel.seed.value() == 4_000_000_000
    window.doc.set_frame(Rect(0, 0, 64, 64))
    panel.model.setCurrentIndex(0)
    params, _target = panel.build_request()
    assert params.seed == 4_000_000_000 and isinstance(params.seed, int)


def test_an_older_entry_without_a_mode_says_so(window):
    panel = window.generate_panel
    missing = panel.restore_entry(HistoryEntry(1.0, {"prompt": "sea", "seed": 5}, "", []))
    assert any("mode" in m for m in missing)
    assert panel.seed.value() == 5


def test_history_entry_keeps_mode_frame_and_fingerprints(tmp_path):
    from artstudio.diffusion.history import GenerationHistory, pixels_digest
    from artstudio.diffusion.params import GenerationParams

    mask = Image.fromarray(np.full((8, 8), 255, np.uint8), "L")
    picture = Image.new("RGB", (8, 8), (1, 2, 3))
    params = GenerationParams(model="m.safetensors", init_image=picture, mask=mask,
                              outpaint=None, count=2)
    history = GenerationHistory(tmp_path / "h.jsonl")
    history.add(HistoryEntry.of_generation(params, [11, 12], Rect(1, 2, 8, 8)))
    entry = GenerationHistory(tmp_path / "h.jsonl").entries[0]
    assert entry.settings["mode"] == "inpaint"
    assert entry.settings["frame"] == [1, 2, 8, 8]
    assert entry.settings["mask_digest"] == pixels_digest(np.full((8, 8), 255, np.uint8))
    assert entry.settings["picture_digest"] == pixels_digest(picture)
    assert entry.seeds == [11, 12]
