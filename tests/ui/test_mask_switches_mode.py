"""The first mask stroke turns Text to image into Inpaint, once per mask
(issue 11, item 5), as Krita AI Diffusion does with a selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from artstudio.document.create import new_document
from artstudio.ui.canvas_view import Tool


@pytest.fixture
def window(studio, qtbot):
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    window.documents.set_document(new_document(128, 128))
    return window


def mask_stroke(window, qtbot, y=40):
    canvas = window.canvas
    canvas.set_tool(Tool.MASK_BRUSH)
    canvas.set_zoom(1.0)
    canvas._pan = QPointF(0, 0)  # document pixel == widget pixel
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(20, y))
    qtbot.mouseMove(canvas, QPoint(60, y))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(60, y))


def mode(window):
    return window.generate_panel.mode.currentData()


def choose(window, key):
    panel = window.generate_panel
    panel.mode.setCurrentIndex(panel.mode.findData(key))


def test_first_mask_stroke_switches_text_to_image_to_inpaint_once(window, qtbot):
    assert mode(window) == "txt2img"
    mask_stroke(window, qtbot)
    assert window.doc.mask.any()
    assert mode(window) == "inpaint"
    assert "Inpaint" in window.generate_panel.status.text()
    choose(window, "txt2img")  # the artist wants text to image after all
    mask_stroke(window, qtbot, y=80)
    assert mode(window) == "txt2img"


def test_a_cleared_mask_switches_again_at_its_next_first_stroke(window, qtbot):
    mask_stroke(window, qtbot)
    choose(window, "txt2img")
    window.doc.clear_mask()
    assert mode(window) == "txt2img"
    mask_stroke(window, qtbot)
    assert mode(window) == "inpaint"


def test_other_modes_are_kept(window, qtbot):
    choose(window, "img2img")
    mask_stroke(window, qtbot)
    assert mode(window) == "img2img"


def test_each_document_switches_at_its_own_first_stroke(window, qtbot):
    mask_stroke(window, qtbot)
    choose(window, "txt2img")
    window.documents.set_document(new_document(128, 128))
    mask_stroke(window, qtbot)
    assert mode(window) == "inpaint"


def test_a_document_opened_with_a_mask_does_not_switch(window, qtbot):
    doc = new_document(128, 128)
    mask = doc.mask.copy()
    mask[:10, :10] = 255  # as a reopened document would come back
    doc.set_mask(mask)
    window.documents.set_document(doc)
    mask_stroke(window, qtbot)
    assert mode(window) == "txt2img"
