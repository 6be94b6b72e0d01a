"""Results previewed on the canvas before they are applied (issue 11, item 2),
and the live preview cleared on Cancel (issue 11, item 7)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QToolButton

from artstudio.diffusion.results import Candidate, ResultTarget
from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.document.staleness import DocumentMark
from artstudio.engine import JobState
from artstudio.model_files.identify import identify


@pytest.fixture(scope="module")
def tiny_sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return save_tiny_models(tmp_path_factory.mktemp("models"), kinds=("sd1",))["sd1"]


def test_live_preview_is_cleared_on_cancel(studio, tiny_sd1, qtbot):
    panel = studio.window.generate_panel
    panel.set_models([identify(tiny_sd1["diffusers"])])
    studio.window.documents.set_document(new_document(64, 64))
    panel.prompt.setPlainText("slow")
    panel.steps.setValue(150)
    handle = panel.generate()
    assert handle is not None, panel.status.text()
    qtbot.waitUntil(lambda: not panel.preview.pixmap().isNull(), timeout=60000)
    panel.cancel()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=30000)
    assert handle.state is JobState.CANCELLED
    qtbot.waitUntil(lambda: panel.status.text() == "Cancelled", timeout=5000)
    assert panel.preview.pixmap().isNull()


RED, GREEN, BLUE, YELLOW = (200, 40, 40), (30, 190, 60), (40, 60, 210), (230, 210, 30)


@pytest.fixture
def window(studio, qtbot):
    window = studio.window
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    window.documents.set_document(new_document(128, 96, background=(*RED, 255)))
    canvas = window.canvas
    canvas.set_zoom(1.0)
    canvas._pan = QPointF(10, 40)  # a document pixel is a widget pixel, shifted
    canvas.update()
    return window


def on_canvas(window, x, y):
    """The colour the artist sees at document pixel (x, y)."""
    canvas = window.canvas
    point = canvas.doc_to_widget(QPointF(x + 0.5, y + 0.5))
    colour = canvas.grab().toImage().pixelColor(int(point.x()), int(point.y()))
    return colour.red(), colour.green(), colour.blue()


def add_results(panel, frame, colours, mode="txt2img", outpaint=None, size=None):
    target = ResultTarget(mode, frame, DocumentMark.of(panel.doc), outpaint)
    for seed, colour in enumerate(colours, start=1):
        image = Image.new("RGB", size or (frame.w, frame.h), colour)
        panel.results.add(Candidate(image, {"prompt": "test"}, target, seed))


def test_selected_result_shows_on_the_canvas_and_the_document_does_not_hold_it(window, qtbot):
    doc, panel, canvas = window.doc, window.generate_panel, window.canvas
    doc.set_frame(Rect(16, 8, 64, 48))
    doc.clear_history()
    doc.mark_saved()
    before = doc.composite().copy()
    add_results(panel, doc.frame, [GREEN, BLUE, YELLOW])
    assert on_canvas(window, 48, 32) == YELLOW  # the newest is selected and shown
    assert on_canvas(window, 18, 10) == YELLOW and on_canvas(window, 77, 53) == YELLOW
    assert on_canvas(window, 13, 32) == RED and on_canvas(window, 82, 32) == RED
    assert len(doc.layers) == 2 and not doc.can_undo and not doc.modified
    np.testing.assert_array_equal(doc.composite(), before)

    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert panel.tray.currentRow() == 1 and on_canvas(window, 48, 32) == BLUE
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert on_canvas(window, 48, 32) == YELLOW
    qtbot.keyClick(canvas, Qt.Key.Key_Right)  # wraps round to the first
    assert panel.tray.currentRow() == 0 and on_canvas(window, 48, 32) == GREEN
    previous = next(b for b in panel.findChildren(QToolButton)
                    if b.arrowType() == Qt.ArrowType.LeftArrow)
    previous.click()
    assert panel.tray.currentRow() == 2 and on_canvas(window, 48, 32) == YELLOW

    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.result_preview.shown is None and on_canvas(window, 48, 32) == RED
    assert panel.results.selected == 2  # hiding is not discarding
    item_rect = panel.tray.visualItemRect(panel.tray.item(2))
    qtbot.mouseClick(panel.tray.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    assert on_canvas(window, 48, 32) == YELLOW  # shown again
    qtbot.keyClick(panel.tray, Qt.Key.Key_Escape)  # Escape in the tray hides it as well
    assert canvas.result_preview.shown is None
    qtbot.mouseClick(panel.tray.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    assert on_canvas(window, 48, 32) == YELLOW
    assert not doc.can_undo and not doc.modified

    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # Apply
    assert len(doc.layers) == 3 and doc.undo_label == "Apply generation"
    assert canvas.result_preview.shown is None
    assert on_canvas(window, 48, 32) == YELLOW  # now from the layer
    doc.undo()
    assert on_canvas(window, 48, 32) == RED  # no preview left behind the layer


def test_discard_shows_the_next_result_and_the_last_one_leaves_the_canvas(window, qtbot):
    doc, panel, canvas = window.doc, window.generate_panel, window.canvas
    add_results(panel, doc.rect, [GREEN, BLUE])
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(panel.results) == 1 and on_canvas(window, 60, 40) == GREEN
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert len(panel.results) == 0 and canvas.result_preview.shown is None
    assert on_canvas(window, 60, 40) == RED


def test_outpaint_preview_reaches_past_the_canvas(window, qtbot):
    doc, panel = window.doc, window.generate_panel
    add_results(panel, doc.rect, [BLUE], mode="outpaint", outpaint=(0, 0, 32, 0),
                size=(160, 96))
    assert window.canvas.result_preview.shown.rect == Rect(0, 0, 160, 96)
    assert on_canvas(window, 140, 50) == BLUE  # right of the canvas' edge
    assert doc.size == (128, 96)


def test_a_result_of_another_document_is_not_shown_over_this_one(window, qtbot):
    panel = window.generate_panel
    add_results(panel, Rect(0, 0, 32, 32), [BLUE], mode="inpaint")
    window.documents.set_document(new_document(64, 64))
    assert window.canvas.result_preview.shown is None
    panel.results.step(1)
    panel.preview_selected()
    assert window.canvas.result_preview.shown is None
    assert "another document" in panel.status.text()


def test_style_result_previews_on_the_canvas_the_same_way(window, qtbot):
    doc, style, canvas = window.doc, window.style_panel, window.canvas
    gradient = np.dstack([np.tile(np.linspace(0, 255, 128, dtype=np.uint8), (96, 1))] * 3
                         + [np.full((96, 128), 255, np.uint8)])
    doc.set_layer_pixels(0, gradient)
    doc.set_frame(Rect(20, 10, 60, 50))
    doc.clear_history()
    style.source.setCurrentIndex(style.source.findData("frame"))
    style.chooser.select_styles([3])
    handle = style.stylize()
    qtbot.waitUntil(lambda: handle.state.finished, timeout=60000)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: style._result is not None, timeout=5000)
    result = style._result.pixels
    for x, y in ((22, 12), (50, 35), (77, 57)):
        assert on_canvas(window, x, y) == tuple(int(v) for v in result[y - 10, x - 20, :3])
    assert on_canvas(window, 90, 35) == tuple(int(v) for v in gradient[35, 90, :3])
    assert len(doc.layers) == 2 and not doc.can_undo
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert on_canvas(window, 50, 35) == tuple(int(v) for v in gradient[35, 50, :3])
    style.show_button.click()
    assert canvas.result_preview.owned_by(style)
    qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert doc.undo_label == "Apply style" and canvas.result_preview.shown is None
    assert on_canvas(window, 50, 35) == tuple(int(v) for v in result[25, 30, :3])


def test_style_discard_takes_its_preview_away_but_not_the_trays(window, qtbot):
    panel, style, canvas = window.generate_panel, window.style_panel, window.canvas
    add_results(panel, window.doc.rect, [GREEN])
    style._result = (np.zeros((4, 4, 4), np.uint8), Rect(0, 0, 4, 4), "x",
                     DocumentMark.of(window.doc))
    style.discard_result()
    assert canvas.result_preview.owned_by(panel)
