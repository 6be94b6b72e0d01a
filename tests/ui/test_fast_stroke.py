"""A fast zigzag with a large brush at low zoom keeps every tooth (issue 11, item 13).

Corners were cut because the window system merged mouse moves that came faster than
a large brush could paint them; the app turns that merging off, and the canvas paints
through every point it is given.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from artstudio.document import BrushSettings, Document
from artstudio.ui.application import StudioApplication
from artstudio.ui.canvas_view import CanvasView

TEETH = 15
ZOOM = 0.12
TOP, BOTTOM = 30.0, 220.0  # widget y of the zigzag's apexes


@pytest.fixture
def low_zoom_canvas(qtbot, show_canvas):
    doc = Document(4000, 2000)
    doc.add_layer(name="Ink")
    doc.clear_history()
    view = show_canvas(doc, 520, 260, ZOOM)
    view.set_brush_settings(BrushSettings(size=120, hardness=1.0, color=(10, 10, 10)))
    return view


def zigzag() -> list[QPointF]:
    """Two events per tooth, apex to apex: as fast as a hand moves."""
    points = []
    for i in range(2 * TEETH + 1):
        points.append(QPointF(20 + i * 15.0, TOP if i % 2 else BOTTOM))
    return points


def teeth_in(view: CanvasView) -> int:
    """Painted runs along a row just below the top apexes."""
    alpha = view.doc.layer(0).pixels[..., 3]
    row = int(TOP / ZOOM) + 30
    painted = (alpha[row] > 0).astype(np.int8)
    return int((np.diff(np.concatenate([[0], painted])) == 1).sum())


def mouse(view, kind, pos, buttons):
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else \
        Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, pos, QPointF(view.mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, event)


def test_a_fast_mouse_zigzag_keeps_every_tooth(low_zoom_canvas):
    view = low_zoom_canvas
    points = zigzag()
    left = Qt.MouseButton.LeftButton
    mouse(view, QMouseEvent.Type.MouseButtonPress, points[0], left)
    for p in points[1:]:
        mouse(view, QMouseEvent.Type.MouseMove, p, left)
    mouse(view, QMouseEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton)
    assert teeth_in(view) == TEETH


def test_a_fast_tablet_zigzag_keeps_every_tooth(low_zoom_canvas):
    view = low_zoom_canvas
    device = QPointingDevice.primaryPointingDevice()
    points = zigzag()

    def send(kind, pos, button, buttons):
        event = QTabletEvent(kind, device, pos, QPointF(view.mapToGlobal(pos)), 1.0, 0.0, 0.0,
                             0.0, 0.0, 0.0, Qt.KeyboardModifier.NoModifier, button, buttons)
        QApplication.sendEvent(view, event)

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send(QTabletEvent.Type.TabletPress, points[0], left, left)
    for p in points[1:]:
        send(QTabletEvent.Type.TabletMove, p, none, left)
    send(QTabletEvent.Type.TabletRelease, points[-1], left, none)
    assert teeth_in(view) == TEETH


def test_the_app_asks_for_every_mouse_and_tablet_point(qapp):
    """X11 merges mouse moves unless told not to (its default is on; the tests'
    offscreen platform starts with it off, so set it as X11 does)."""
    compress = Qt.ApplicationAttribute.AA_CompressHighFrequencyEvents
    tablet = Qt.ApplicationAttribute.AA_CompressTabletEvents
    QCoreApplication.setAttribute(compress, True)
    QCoreApplication.setAttribute(tablet, True)
    app = StudioApplication(qapp, show=False)
    try:
        assert not QCoreApplication.testAttribute(compress)
        assert not QCoreApplication.testAttribute(tablet)
    finally:
        app.close()
        QCoreApplication.setAttribute(compress, False)
        QCoreApplication.setAttribute(tablet, False)


def test_the_zigzag_counter_sees_a_cut_corner(low_zoom_canvas):
    """What merged moves did: apexes skipped, so teeth go missing."""
    view = low_zoom_canvas
    points = zigzag()
    kept = [points[0], *points[1:-1:3], points[-1]]  # two of every three moves merged away
    left = Qt.MouseButton.LeftButton
    mouse(view, QMouseEvent.Type.MouseButtonPress, kept[0], left)
    for p in kept[1:]:
        mouse(view, QMouseEvent.Type.MouseMove, p, left)
    mouse(view, QMouseEvent.Type.MouseButtonRelease, kept[-1], Qt.MouseButton.NoButton)
    assert teeth_in(view) < TEETH


