"""The canvas view: mouse and tablet input change the right pixels, zoom
and pan keep the document point under the cursor, tools do their job."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from artstudio.document import BrushSettings, Document
from artstudio.ui.canvas_view import Tool


@pytest.fixture
def canvas(qtbot, show_canvas):
    doc = Document(200, 150)
    base = np.zeros((150, 200, 4), np.uint8)
    base[...] = (255, 255, 255, 255)
    doc.add_layer(base, name="Background")
    doc.add_layer(name="Ink")
    doc.clear_history()
    view = show_canvas(doc, 400, 300)
    view.set_brush_settings(BrushSettings(size=10, hardness=1.0, color=(200, 0, 0)))
    return view


def drag(qtbot, view, points, button=Qt.MouseButton.LeftButton,
         modifier=Qt.KeyboardModifier.NoModifier):
    first = QPoint(*points[0])
    qtbot.mousePress(view, button, modifier, first)
    for p in points[1:]:
        qtbot.mouseMove(view, QPoint(*p))
    qtbot.mouseRelease(view, button, modifier, QPoint(*points[-1]))


def send_tablet(view, kind, pos, pressure, buttons):
    device = QPointingDevice.primaryPointingDevice()
    button = Qt.MouseButton.LeftButton if kind != QTabletEvent.Type.TabletMove else \
        Qt.MouseButton.NoButton
    global_pos = QPointF(view.mapToGlobal(QPoint(int(pos.x()), int(pos.y()))))
    event = QTabletEvent(kind, device, pos, global_pos, pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
                         Qt.KeyboardModifier.NoModifier, button, buttons)
    QApplication.sendEvent(view, event)
    return event


def test_mouse_stroke_paints_the_active_layer_only(canvas, qtbot):
    doc = canvas.doc
    background_before = doc.layer(0).pixels.copy()
    drag(qtbot, canvas, [(20, 20), (60, 20), (100, 20)])
    ink = doc.layer(1).pixels
    assert tuple(ink[20, 60]) == (200, 0, 0, 255)
    assert ink[20, 20:101, 3].min() == 255  # continuous: dabs are interpolated
    assert ink[60, 60, 3] == 0
    assert np.array_equal(doc.layer(0).pixels, background_before)
    assert doc.can_undo and doc.undo_label == "Brush stroke"
    doc.undo()
    assert doc.layer(1).pixels.max() == 0


def test_stroke_is_smooth_at_any_speed(canvas, qtbot):
    drag(qtbot, canvas, [(10, 100), (190, 100)])  # one huge jump between two events
    assert canvas.doc.layer(1).pixels[100, 10:191, 3].min() == 255


def test_tablet_pressure_drives_brush_size(canvas, qtbot):
    doc = canvas.doc
    buttons = Qt.MouseButton.LeftButton
    send_tablet(canvas, QTabletEvent.Type.TabletPress, QPointF(20, 40), 0.2, buttons)
    send_tablet(canvas, QTabletEvent.Type.TabletMove, QPointF(60, 40), 0.2, buttons)
    send_tablet(canvas, QTabletEvent.Type.TabletMove, QPointF(100, 40), 1.0, buttons)
    send_tablet(canvas, QTabletEvent.Type.TabletMove, QPointF(140, 40), 1.0, buttons)
    event = send_tablet(canvas, QTabletEvent.Type.TabletRelease, QPointF(140, 40), 0.0,
                        Qt.MouseButton.NoButton)
    assert event.isAccepted()
    alpha = doc.layer(1).pixels[..., 3]
    light_width = int((alpha[:, 40] > 0).sum())
    full_width = int((alpha[:, 130] > 0).sum())
    assert 0 < light_width < full_width
    assert full_width >= 9  # size 10 at full pressure
    assert [step.label for step in doc.history.undo_steps] == ["Brush stroke"]


def test_eraser_removes_alpha(canvas, qtbot):
    drag(qtbot, canvas, [(20, 20), (120, 20)])
    canvas.set_tool(Tool.ERASER)
    drag(qtbot, canvas, [(60, 20), (61, 20)])
    ink = canvas.doc.layer(1).pixels
    assert ink[20, 60, 3] == 0 and ink[20, 110, 3] == 255


def test_mask_brush_paints_the_mask_not_layers(canvas, qtbot):
    doc = canvas.doc
    canvas.set_tool(Tool.MASK_BRUSH)
    drag(qtbot, canvas, [(50, 50), (80, 50)])
    assert doc.mask[50, 65] == 255 and doc.mask[10, 10] == 0
    assert doc.layer(1).pixels.max() == 0
    canvas.set_tool(Tool.MASK_ERASER)
    canvas.set_brush_settings(canvas.brush_settings.with_(size=30))  # covers the soft edge
    drag(qtbot, canvas, [(50, 50), (80, 50)])
    assert doc.mask.max() == 0


def test_alt_click_picks_colour_and_fill_fills(canvas, qtbot):
    canvas.set_tool(Tool.BRUSH)
    picked = []
    canvas.color_picked.connect(picked.append)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier,
                     QPoint(5, 5))
    assert picked == [(255, 255, 255)]
    canvas.set_brush_settings(canvas.brush_settings.with_(color=(0, 0, 255)))
    canvas.set_tool(Tool.FILL)
    canvas.doc.active_index = 0
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert tuple(canvas.doc.layer(0).pixels[140, 190]) == (0, 0, 255, 255)


def test_move_tool_moves_active_layer(canvas, qtbot):
    drag(qtbot, canvas, [(20, 20), (21, 20)])
    canvas.set_tool(Tool.MOVE)
    drag(qtbot, canvas, [(50, 50), (70, 60)])
    layer = canvas.doc.layer(1)
    assert (layer.x, layer.y) == (20, 10)


def test_frame_tool_draws_and_moves_the_generation_frame(canvas, qtbot):
    doc = canvas.doc
    canvas.set_tool(Tool.FRAME)
    drag(qtbot, canvas, [(10, 20), (60, 60), (110, 120)])
    assert tuple(doc.frame) == (10, 20, 100, 100)
    drag(qtbot, canvas, [(50, 50), (70, 55)])  # inside: moves it
    assert tuple(doc.frame) == (30, 25, 100, 100)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(150, 140))
    assert tuple(doc.frame) == (0, 0, 200, 150)


def test_wheel_zoom_keeps_point_under_cursor(canvas, qtbot):
    anchor = QPointF(100, 80)
    before = canvas.widget_to_doc(anchor)
    canvas.set_zoom(3.0, anchor)
    after = canvas.widget_to_doc(anchor)
    assert canvas.zoom == 3.0
    assert abs(before.x() - after.x()) < 1e-6 and abs(before.y() - after.y()) < 1e-6


def test_middle_button_pans_without_painting(canvas, qtbot):
    drag(qtbot, canvas, [(100, 100), (130, 110)], button=Qt.MouseButton.MiddleButton)
    assert canvas.widget_to_doc(QPointF(130, 110)) == QPointF(100, 100)
    assert canvas.doc.layer(1).pixels.max() == 0


def test_space_drag_pans(canvas, qtbot):
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    drag(qtbot, canvas, [(100, 100), (90, 80)])
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.widget_to_doc(QPointF(90, 80)) == QPointF(100, 100)
    assert canvas.doc.layer(1).pixels.max() == 0


def test_painting_repaints_only_the_touched_area(canvas, qtbot):
    regions = []
    canvas.doc.events.composite_changed.connect(regions.append)
    drag(qtbot, canvas, [(20, 20), (30, 20)])
    assert regions and all(r.w <= 64 and r.h <= 64 for r in regions)


def test_hidden_layer_is_not_painted(canvas, qtbot):
    messages = []
    canvas.message.connect(messages.append)
    canvas.doc.set_layer_visible(1, False)
    drag(qtbot, canvas, [(20, 20), (40, 20)])
    assert canvas.doc.layer(1).pixels.max() == 0
    assert "hidden" in messages[0]


def test_mask_overlay_shows_only_where_masked_and_can_be_hidden(canvas, qtbot):
    def colour_at(x, y):
        return canvas.grab().toImage().pixelColor(x, y)

    plain = colour_at(50, 50)
    assert (plain.red(), plain.green(), plain.blue()) == (255, 255, 255)
    canvas.set_tool(Tool.MASK_BRUSH)
    drag(qtbot, canvas, [(40, 50), (60, 50)])
    tinted = colour_at(50, 50)
    assert (tinted.red(), tinted.green(), tinted.blue()) != (255, 255, 255)  # striped
    assert colour_at(150, 120).green() == 255
    canvas.set_show_mask(False)
    assert colour_at(50, 50).green() == 255
