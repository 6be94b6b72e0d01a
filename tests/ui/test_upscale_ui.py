"""Image > Upscale through the engine: every layer through the model, the mask
and frame scaled, one undo step, and no stale result over newer strokes."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.document import Rect
from artstudio.engine import JobState
from artstudio.generators.upscale import (
    UpscaleOptions,
    load_upscaler,
    save_random_compact,
    upscale,
)
from artstudio.ui.document_controller import new_document
from artstudio.ui.upscale_dialog import UpscaleDialog, upscale_document


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_random_compact(tmp_path_factory.mktemp("m") / "compact-x2.pth")


def test_upscale_document_with_a_model(studio, qtbot, model):
    window = studio.window
    doc = new_document(40, 30)
    doc.add_layer(np.full((10, 12, 4), (200, 30, 30, 255), np.uint8), name="patch", x=5, y=4)
    mask = np.zeros((30, 40), np.uint8)
    mask[:10] = 255
    doc.set_mask(mask)
    doc.set_frame(Rect(2, 2, 20, 16))
    window.documents.set_document(doc)
    patch_before = doc.layer(2).pixels.copy()
    handle = upscale_document(window, doc, UpscaleOptions(model=str(model), scale=2.0))
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    assert handle.state is JobState.DONE
    qtbot.waitUntil(lambda: doc.size == (80, 60), timeout=5000)
    patch = doc.layer(2)
    assert (patch.x, patch.y, patch.width, patch.height) == (10, 8, 24, 20)
    expected = upscale(patch_before, UpscaleOptions(model=str(model), scale=2.0))
    assert np.array_equal(patch.pixels, expected)
    assert doc.mask.shape == (60, 80) and doc.mask[:16].min() > 240 and doc.mask[24:].max() < 16
    assert tuple(doc.frame) == (4, 4, 40, 32)
    assert doc.undo_label == "Upscale image"
    doc.undo()
    assert doc.size == (40, 30) and np.array_equal(doc.layer(2).pixels, patch_before)


def test_result_is_not_applied_over_newer_strokes(studio, qtbot, model, monkeypatch):
    window = studio.window
    doc = new_document(32, 32)
    window.documents.set_document(doc)
    load_upscaler(model, "auto")
    handle = upscale_document(window, doc, UpscaleOptions(model=None, scale=2.0))
    doc.add_layer(name="painted meanwhile")
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    qtbot.waitUntil(lambda: "changed while upscaling" in window.status_message.text(),
                    timeout=5000)
    assert doc.size == (32, 32)


def test_dialog_options(qtbot, model):
    dialog = UpscaleDialog()
    qtbot.addWidget(dialog)
    assert dialog.options().model is None
    dialog.model.setText(str(model))
    dialog.scale.setValue(3.0)
    options = dialog.options()
    assert options.model == str(model) and options.scale == 3.0
