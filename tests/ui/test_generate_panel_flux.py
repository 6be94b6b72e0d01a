"""The Generate panel with FLUX.1: Edit offered where the model has it, the
negative prompt disabled where the family has none, the family's defaults,
and an edit that lands in the tray at the frame's size."""

from __future__ import annotations

import numpy as np
import pytest
from panel_jobs import generate_and_wait

from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.model_files.identify import identify


@pytest.fixture
def panel(studio, tiny_flux, qtbot):
    studio._probe_timer.stop()  # its late model scan would replace the models and the tray
    panel = studio.window.generate_panel
    panel.set_models([identify(tiny_flux["flux-kontext"]["diffusers"]),
                      identify(tiny_flux["flux-schnell"]["diffusers"])])
    studio.window.documents.set_document(new_document(96, 64))
    return panel


def modes(panel):
    return [panel.mode.itemData(i) for i in range(panel.mode.count())]


def test_edit_and_negative_prompt_follow_the_model(panel):
    assert panel.model.currentData().kind == "flux-kontext"
    assert "edit" in modes(panel)
    assert not panel.negative.isEnabled() and "no negative prompt" in panel.negative.toolTip()
    assert (panel.steps.value(), panel.cfg.value()) == (28, 2.5)
    assert panel.sampler.currentData() == "flow_euler"
    panel.mode.setCurrentIndex(panel.mode.findData("edit"))
    panel.model.setCurrentIndex(1)  # schnell: no Edit, its own 4 steps
    assert "edit" not in modes(panel) and panel.mode.currentData() == "img2img"
    assert (panel.steps.value(), panel.cfg.value()) == (4, 0.0)


def test_edit_lands_in_the_tray_at_the_frame(panel, studio, qtbot):
    doc = panel.doc
    doc.set_frame(Rect(16, 16, 64, 48))
    panel.mode.setCurrentIndex(panel.mode.findData("edit"))
    panel.prompt.setPlainText("make it night")
    panel.steps.setValue(2)
    panel.seed.setValue(7)
    generate_and_wait(panel, qtbot, timeout_ms=120000)  # done, and in the tray
    candidate = panel.results.candidates[-1]
    assert candidate.image.size == (64, 48) and candidate.mode == "edit"
    before = doc.composite().copy()
    layer = panel.apply_selected()
    assert (layer.x, layer.y, layer.width, layer.height) == (16, 16, 64, 48)
    after = doc.composite()
    outside = np.ones(after.shape[:2], bool)
    outside[16:64, 16:80] = False
    assert np.array_equal(after[outside], before[outside])  # only the frame changed


def enabled(panel, mode):
    return panel.mode.model().item(panel.mode.findData(mode)).isEnabled()


def test_kontext_greys_the_modes_it_cannot_run_and_says_why(panel):
    from PySide6.QtCore import Qt

    assert enabled(panel, "txt2img") and enabled(panel, "edit") and enabled(panel, "erase")
    for mode in ("img2img", "inpaint", "outpaint"):
        assert not enabled(panel, mode)
        tip = panel.mode.itemData(panel.mode.findData(mode), Qt.ItemDataRole.ToolTipRole)
        assert "Kontext" in tip and "Edit" in tip
    panel.model.setCurrentIndex(1)  # schnell runs every mode
    assert all(enabled(panel, m) for m in ("img2img", "inpaint", "outpaint"))
    panel.mode.setCurrentIndex(panel.mode.findData("img2img"))
    panel.model.setCurrentIndex(0)  # back to Kontext: image to image becomes its Edit
    assert panel.mode.currentData() == "edit"
    panel.mode.setCurrentIndex(panel.mode.findData("txt2img"))
    panel.doc.mask[10:20, 10:20] = 255
    panel._mask_changed(Rect(10, 10, 10, 10))
    assert panel.mode.currentData() == "txt2img"  # a mask does not move Kontext to Inpaint
