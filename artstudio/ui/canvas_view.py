"""The canvas: shows a Document's composite, mask and generation frame, and
turns mouse and tablet input into brush strokes, fills, moves and frames.

The composite is shown straight from the document's cached array (a QImage
wrapping its memory, no copy), and only the widget area that a change
touched is repainted, so strokes stay smooth on large documents.
"""

from __future__ import annotations

import enum
import math

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QTabletEvent,
    QWheelEvent,
    qRgba,
)
from PySide6.QtWidgets import QWidget

from artstudio.document import MASK, Brush, BrushSettings, Document, Rect, flood_fill, pick_color
from artstudio.ui.result_preview import CanvasPreview, PreviewContent

MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
ZOOM_STEP = 1.25
# The mask shows as diagonal cyan and dark stripes fixed to the screen: no paint
# looks like that, and the stripes stay put while the picture zooms and pans.
MASK_STRIPES = ((0, 210, 255, 160), (16, 16, 40, 90))
MASK_STRIPE_PERIOD = 12  # widget pixels


class Tool(enum.Enum):
    BRUSH = "brush"
    ERASER = "eraser"
    MASK_BRUSH = "mask brush"
    MASK_ERASER = "mask eraser"
    FILL = "fill"
    PICKER = "colour picker"
    MOVE = "move layer"
    FRAME = "generation frame"


PAINT_TOOLS = {Tool.BRUSH, Tool.ERASER, Tool.MASK_BRUSH, Tool.MASK_ERASER}
# Canvas keys while a result is previewed (Escape hides it).
PREVIEW_KEYS = {
    Qt.Key.Key_Left: "previous",
    Qt.Key.Key_Right: "next",
    Qt.Key.Key_Return: "apply",
    Qt.Key.Key_Enter: "apply",
    Qt.Key.Key_Delete: "discard",
    Qt.Key.Key_Backspace: "discard",
}


def _checker_brush() -> QBrush:
    tile = QPixmap(16, 16)
    tile.fill(QColor(200, 200, 200))
    painter = QPainter(tile)
    painter.fillRect(0, 0, 8, 8, QColor(150, 150, 150))
    painter.fillRect(8, 8, 8, 8, QColor(150, 150, 150))
    painter.end()
    return QBrush(tile)


def _mask_alpha_table() -> list[int]:
    # Index = mask value; the stripes are painted through this alpha.
    return [qRgba(255, 255, 255, v) for v in range(256)]


def _mask_stripes() -> QBrush:
    n = MASK_STRIPE_PERIOD
    tile = QImage(n, n, QImage.Format.Format_ARGB32_Premultiplied)
    first, second = (QColor(*rgba) for rgba in MASK_STRIPES)
    for y in range(n):
        for x in range(n):
            tile.setPixelColor(x, y, first if (x + y) % n < n // 2 else second)
    return QBrush(tile)


class CanvasView(QWidget):
    zoom_changed = Signal(float)
    color_picked = Signal(tuple)  # (r, g, b)
    cursor_moved = Signal(int, int)  # document pixel under the cursor
    message = Signal(str)  # something the status bar should say
    tool_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("canvasView")
        self.setMouseTracking(True)
        self.setTabletTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAcceptDrops(False)  # the main window handles file drops
        self.doc: Document | None = None
        self.tool = Tool.BRUSH
        self.brush_settings = BrushSettings(size=24, hardness=0.7, color=(20, 20, 24))
        self.fill_tolerance = 32
        self.show_mask = True
        self._brush = Brush(self.brush_settings)
        self._zoom = 1.0
        self._pan = QPointF(0, 0)  # widget position of the document's origin
        self._image: QImage | None = None
        self._image_array: np.ndarray | None = None
        self._mask_image: QImage | None = None
        self._mask_array: np.ndarray | None = None
        self._mask_table = _mask_alpha_table()
        self._mask_stripes = _mask_stripes()
        self._checker = _checker_brush()
        self._space_held = False
        self._panning_from: QPointF | None = None
        self._drag_start: QPointF | None = None  # document coords, for move and frame tools
        self._drag_now: QPointF | None = None
        self._frame_moving = False
        self._cursor_pos: QPointF | None = None
        self._tablet_active = False
        self._mask_has_pixels: bool | None = None
        # A result shown over the layers that the document does not hold.
        self.result_preview = CanvasPreview()
        self.result_preview.changed.connect(self._preview_changed)
        self._preview_image: tuple[PreviewContent, QImage] | None = None
        self.repaint_count = 0  # paint events served, for the brush benchmark

    # ---- document --------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self._brush.end_stroke()
            events = self.doc.events
            events.composite_changed.disconnect(self._on_doc_rect_changed)
            events.mask_changed.disconnect(self._on_mask_changed)
            events.frame_changed.disconnect(self._on_frame_changed)
            events.size_changed.disconnect(self._on_size_changed)
            events.layers_changed.disconnect(self.update)
        self.doc = doc
        self._drag_start = self._drag_now = self._panning_from = None  # from the old document
        self._image = self._image_array = self._mask_image = self._mask_array = None
        self._mask_has_pixels = None
        self.result_preview.clear()  # it was shown over the old document
        if doc is not None:
            events = doc.events
            events.composite_changed.connect(self._on_doc_rect_changed)
            events.mask_changed.connect(self._on_mask_changed)
            events.frame_changed.connect(self._on_frame_changed)
            events.size_changed.connect(self._on_size_changed)
            events.layers_changed.connect(self.update)
            self.fit_to_window()
        self.update()

    def _on_doc_rect_changed(self, rect: Rect) -> None:
        self.update(self._widget_rect(rect))

    def _on_mask_changed(self, rect: Rect) -> None:
        self._mask_has_pixels = None  # recounted at the next paint
        self._on_doc_rect_changed(rect)

    def _mask_visible(self) -> bool:
        """Drawing an empty full-size overlay costs ~20 ms on large documents."""
        if not self.show_mask:
            return False
        if self._mask_has_pixels is None:
            self._mask_has_pixels = bool(self.doc.mask.any())
        return self._mask_has_pixels

    def _on_frame_changed(self, _rect: Rect) -> None:
        self.update()

    def _on_size_changed(self, _w: int, _h: int) -> None:
        self._image = self._image_array = self._mask_image = self._mask_array = None
        self._mask_has_pixels = None
        self.fit_to_window()

    # ---- coordinates -----------------------------------------------------
    @property
    def zoom(self) -> float:
        return self._zoom

    def widget_to_doc(self, point: QPointF) -> QPointF:
        return (point - self._pan) / self._zoom

    def doc_to_widget(self, point: QPointF) -> QPointF:
        return point * self._zoom + self._pan

    def _widget_rect(self, rect: Rect) -> QRect:
        z = self._zoom
        r = QRectF(rect.x * z + self._pan.x(), rect.y * z + self._pan.y(), rect.w * z, rect.h * z)
        return r.toAlignedRect().adjusted(-2, -2, 2, 2)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the document point under `anchor` (widget coords) still."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        doc_point = self.widget_to_doc(anchor)
        self._zoom = zoom
        self._pan = anchor - doc_point * zoom
        self.zoom_changed.emit(zoom)
        self.update()

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def fit_to_window(self) -> None:
        if self.doc is None or self.width() < 2 or self.height() < 2:
            return
        margin = 24
        zoom = min((self.width() - 2 * margin) / self.doc.width,
                   (self.height() - 2 * margin) / self.doc.height)
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self._pan = QPointF((self.width() - self.doc.width * self._zoom) / 2,
                            (self.height() - self.doc.height * self._zoom) / 2)
        self.zoom_changed.emit(self._zoom)
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        self._pan += QPointF(dx, dy)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(900, 700)

    # ---- tools -----------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self._brush.end_stroke()
        self.tool = tool
        if tool in (Tool.MASK_BRUSH, Tool.MASK_ERASER):
            self.show_mask = True
        self.setCursor(Qt.CursorShape.CrossCursor if tool not in PAINT_TOOLS
                       else Qt.CursorShape.BlankCursor)
        self.tool_changed.emit(tool)
        self.update()

    def set_brush_settings(self, settings: BrushSettings) -> None:
        self.brush_settings = settings
        self._update_cursor_outline()

    def change_brush_size(self, factor: float) -> None:
        size = min(1000.0, max(1.0, self.brush_settings.size * factor))
        self.set_brush_settings(self.brush_settings.with_(size=round(size, 1)))

    def set_show_mask(self, show: bool) -> None:
        self.show_mask = show
        self.update()

    # ---- painting the widget ---------------------------------------------
    def _composite_image(self) -> QImage:
        array = self.doc.composite()  # recomputes only the dirty regions
        if self._image is None or array is not self._image_array:
            h, w = array.shape[:2]
            self._image = QImage(array.data, w, h, array.strides[0],
                                 QImage.Format.Format_RGBA8888)
            self._image_array = array
        return self._image

    def _mask_qimage(self) -> QImage:
        mask = self.doc.mask
        if self._mask_image is None or mask is not self._mask_array:
            h, w = mask.shape
            image = QImage(mask.data, w, h, mask.strides[0], QImage.Format.Format_Indexed8)
            image.setColorTable(self._mask_table)
            self._mask_image, self._mask_array = image, mask
        return self._mask_image

    def paintEvent(self, event: QPaintEvent) -> None:
        self.repaint_count += 1
        painter = QPainter(self)
        try:
            exposed = event.rect()
            painter.fillRect(exposed, QColor(58, 58, 62))
            if self.doc is None:
                painter.setPen(QColor(180, 180, 188))
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                                 "No document open\n\nFile > New (Ctrl+N) or drop an image here")
                return
            doc_widget = QRectF(self._pan.x(), self._pan.y(), self.doc.width * self._zoom,
                                self.doc.height * self._zoom)
            visible = doc_widget.intersected(QRectF(exposed))
            if not visible.isEmpty():
                painter.fillRect(visible, self._checker)
                source = self._source_rect(visible)
                target = QRectF(self.doc_to_widget(source.topLeft()),
                                self.doc_to_widget(source.bottomRight()))
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom < 1)
                painter.setClipRect(visible)
                painter.drawImage(target, self._composite_image(), source)
                if self._mask_visible():
                    self._paint_mask(painter, target, source, visible)
                painter.setClipping(False)
            self._paint_preview(painter)
            self._paint_overlays(painter)
        finally:
            painter.end()

    def _paint_mask(self, painter: QPainter, target: QRectF, source: QRectF,
                    visible: QRectF) -> None:
        """The mask's stripes over the picture, as opaque as the mask is."""
        area = visible.toAlignedRect()
        layer = QImage(area.size(), QImage.Format.Format_ARGB32_Premultiplied)
        layer.fill(Qt.GlobalColor.transparent)
        p = QPainter(layer)
        try:
            p.translate(-area.topLeft())
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom < 1)
            p.drawImage(target, self._mask_qimage(), source)
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
            p.fillRect(QRectF(area), self._mask_stripes)
        finally:
            p.end()
        painter.drawImage(area.topLeft(), layer)

    # ---- the result preview ------------------------------------------------
    def _preview_changed(self) -> None:
        content = self.result_preview.content
        if self._preview_image is not None and self._preview_image[0] is not content:
            self._preview_image = None
        self.update()

    def _preview_qimage(self, content: PreviewContent) -> QImage:
        if self._preview_image is None:
            pixels = content.pixels
            h, w = pixels.shape[:2]
            # The QImage wraps the content's array, which the tuple keeps alive.
            image = QImage(pixels.data, w, h, pixels.strides[0], QImage.Format.Format_RGBA8888)
            self._preview_image = (content, image)
        return self._preview_image[1]

    def _paint_preview(self, painter: QPainter) -> None:
        content = self.result_preview.shown
        if content is None:
            return
        r = content.rect
        target = QRectF(self.doc_to_widget(QPointF(r.x, r.y)),
                        self.doc_to_widget(QPointF(r.x + r.w, r.y + r.h)))
        image = self._preview_qimage(content)
        scaled = (abs(target.width() - image.width()) > 0.5
                  or abs(target.height() - image.height()) > 0.5)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scaled)
        painter.drawImage(target, image)
        self._dashed_rect(painter, QRectF(r.x, r.y, r.w, r.h), QColor(120, 230, 140))
        if content.caption:
            metrics = painter.fontMetrics()
            text = f"{content.caption}  ·  {content.key_hint}"
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, self.width() - 24)
            box = QRectF(metrics.boundingRect(text)).adjusted(-8, -4, 8, 4)
            box.moveCenter(QPointF(self.width() / 2, box.height() / 2 + 8))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(20, 20, 24, 200))
            painter.drawRoundedRect(box, 6, 6)
            painter.setPen(QColor(235, 235, 240))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _source_rect(self, widget_rect: QRectF) -> QRectF:
        """The whole document pixels behind a widget area (so scaling is exact)."""
        top_left = self.widget_to_doc(widget_rect.topLeft())
        bottom_right = self.widget_to_doc(widget_rect.bottomRight())
        x0, y0 = max(0, math.floor(top_left.x())), max(0, math.floor(top_left.y()))
        x1 = min(self.doc.width, math.ceil(bottom_right.x()))
        y1 = min(self.doc.height, math.ceil(bottom_right.y()))
        return QRectF(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def _paint_overlays(self, painter: QPainter) -> None:
        doc = self.doc
        frame = doc.frame
        if frame != doc.rect or self.tool is Tool.FRAME:
            self._dashed_rect(painter, QRectF(*frame), QColor(90, 170, 255))
        if self._drag_start is not None and self._drag_now is not None:
            if self.tool is Tool.FRAME:
                self._dashed_rect(painter, self._frame_preview(), QColor(255, 210, 80))
            elif self.tool is Tool.MOVE and doc.active_layer is not None:
                delta = self._drag_now - self._drag_start
                bounds = doc.active_layer.bounds
                self._dashed_rect(painter, QRectF(bounds.x + round(delta.x()),
                                                  bounds.y + round(delta.y()), bounds.w, bounds.h),
                                  QColor(255, 210, 80))
        if self._cursor_pos is not None and self.tool in PAINT_TOOLS:
            radius = max(1.0, self.brush_settings.size * self._zoom / 2)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(0, 0, 0, 160), 1.5))
            painter.drawEllipse(self._cursor_pos, radius + 0.75, radius + 0.75)
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
            painter.drawEllipse(self._cursor_pos, radius, radius)

    def _dashed_rect(self, painter: QPainter, doc_rect: QRectF, colour: QColor) -> None:
        rect = QRectF(self.doc_to_widget(doc_rect.topLeft()),
                      self.doc_to_widget(doc_rect.bottomRight()))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 180), 1))
        painter.drawRect(rect)
        pen = QPen(colour, 1, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRect(rect)

    def _update_cursor_outline(self, old: QPointF | None = None) -> None:
        radius = self.brush_settings.size * self._zoom / 2 + 4
        for pos in (old, self._cursor_pos):
            if pos is not None:
                self.update(QRectF(pos.x() - radius, pos.y() - radius, 2 * radius,
                                   2 * radius).toAlignedRect())

    # ---- input: shared by mouse and tablet -------------------------------
    def _press(self, pos: QPointF, button, modifiers, pressure: float) -> None:
        if button == Qt.MouseButton.MiddleButton or (
                self._space_held and button == Qt.MouseButton.LeftButton):
            self._panning_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if button != Qt.MouseButton.LeftButton or self.doc is None:
            return
        point = self.widget_to_doc(pos)
        x, y = point.x(), point.y()
        alt = bool(modifiers & Qt.KeyboardModifier.AltModifier)
        if self.tool is Tool.PICKER or (alt and self.tool in (Tool.BRUSH, Tool.FILL)):
            self._pick(x, y)
        elif self.tool in PAINT_TOOLS:
            self._begin_stroke(x, y, pressure)
        elif self.tool is Tool.FILL:
            self._fill(x, y)
        elif self.tool in (Tool.MOVE, Tool.FRAME):
            self._drag_start = self._drag_now = point
            frame = self.doc.frame
            self._frame_moving = (self.tool is Tool.FRAME and frame != self.doc.rect
                                  and QRectF(*frame).contains(point))

    def _move(self, pos: QPointF, buttons, pressure: float) -> None:
        old = self._cursor_pos
        self._cursor_pos = pos
        if self.doc is not None:
            point = self.widget_to_doc(pos)
            self.cursor_moved.emit(math.floor(point.x()), math.floor(point.y()))
        if self._panning_from is not None:
            delta = pos - self._panning_from
            self._panning_from = pos
            self.pan_by(delta.x(), delta.y())
            return
        if self._brush.active:
            point = self.widget_to_doc(pos)
            self._brush.stroke_to(point.x(), point.y(), pressure)
        elif self._drag_start is not None:
            self._drag_now = self.widget_to_doc(pos)
            self.update()
        if self.tool in PAINT_TOOLS:
            self._update_cursor_outline(old)

    def _release(self, pos: QPointF, button) -> None:
        if self._panning_from is not None and button in (Qt.MouseButton.MiddleButton,
                                                         Qt.MouseButton.LeftButton):
            self._panning_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space_held
                           else Qt.CursorShape.ArrowCursor)
            return
        if button != Qt.MouseButton.LeftButton:
            return
        if self._brush.active:
            self._brush.end_stroke()
        elif self._drag_start is not None:
            self._drag_now = self.widget_to_doc(pos)
            self._finish_drag()

    def _begin_stroke(self, x: float, y: float, pressure: float) -> None:
        doc = self.doc
        if self.tool in (Tool.MASK_BRUSH, Tool.MASK_ERASER):
            target = MASK
        else:
            if doc.active_layer is None:
                self.message.emit("Add a layer to paint on")
                return
            if not doc.active_layer.visible:
                self.message.emit("The active layer is hidden: show it to paint on it")
                return
            target = doc.active_index
        eraser = self.tool in (Tool.ERASER, Tool.MASK_ERASER)
        self._brush.settings = self.brush_settings.with_(eraser=eraser)
        self._brush.begin_stroke(doc, x, y, pressure, target=target)

    def _pick(self, x: float, y: float) -> None:
        r, g, b, a = pick_color(self.doc, math.floor(x), math.floor(y))
        if a:
            self.brush_settings = self.brush_settings.with_(color=(r, g, b))
            self.color_picked.emit((r, g, b))

    def _fill(self, x: float, y: float) -> None:
        if self.doc.active_layer is None:
            self.message.emit("Add a layer to fill")
            return
        flood_fill(self.doc, math.floor(x), math.floor(y), self.brush_settings.color,
                   tolerance=self.fill_tolerance, opacity=self.brush_settings.opacity)

    def _frame_preview(self) -> QRectF:
        start, now = self._drag_start, self._drag_now
        if self._frame_moving:
            frame = self.doc.frame
            delta = now - start
            return QRectF(frame.x + round(delta.x()), frame.y + round(delta.y()), frame.w, frame.h)
        return QRectF(start, now).normalized()

    def _finish_drag(self) -> None:
        doc, start, now = self.doc, self._drag_start, self._drag_now
        preview = self._frame_preview() if self.tool is Tool.FRAME else None
        self._drag_start = self._drag_now = None
        if self.tool is Tool.MOVE and doc.active_layer is not None:
            dx, dy = round(now.x() - start.x()), round(now.y() - start.y())
            if dx or dy:
                doc.move_layer_offset(doc.active_index, dx, dy)
        elif preview is not None:
            r = preview
            rect = Rect(round(r.x()), round(r.y()), round(r.width()), round(r.height()))
            rect = rect.intersect(doc.rect)
            if rect.w >= 8 and rect.h >= 8:
                doc.set_frame(rect)
            elif not self._frame_moving:
                doc.reset_frame()  # a click without a drag: back to the whole canvas
        self.update()

    # ---- Qt event handlers -----------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._tablet_active:
            return  # the tablet event already handled it, with pressure
        self._press(event.position(), event.button(), event.modifiers(), 1.0)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self._tablet_active:
            self._move(event.position(), event.buttons(), 1.0)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._tablet_active:
            self._release(event.position(), event.button())

    def tabletEvent(self, event: QTabletEvent) -> None:
        pressure = float(event.pressure())
        kind = event.type()
        if kind == QTabletEvent.Type.TabletPress:
            self._tablet_active = True
            self._press(event.position(), event.button(), event.modifiers(), pressure)
        elif kind == QTabletEvent.Type.TabletMove:
            self._move(event.position(), event.buttons(), pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            self._release(event.position(), event.button())
            self._tablet_active = False
        event.accept()  # no synthesized mouse event: it would paint a second, pressure-less stroke

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if not steps:
            return
        self.set_zoom(self._zoom * ZOOM_STEP ** steps, event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        plain = not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
        if self.result_preview.shown is not None and plain:
            if event.key() == Qt.Key.Key_Escape:
                self.result_preview.hide()
                return
            action = PREVIEW_KEYS.get(Qt.Key(event.key()))
            if action is not None and self.result_preview.trigger(action):
                return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self._panning_from = None
            self.set_tool(self.tool)  # restores the tool's cursor
            return
        super().keyReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        old, self._cursor_pos = self._cursor_pos, None
        self._update_cursor_outline(old)
        super().leaveEvent(event)

    def resizeEvent(self, event) -> None:
        first = event.oldSize().width() <= 0
        super().resizeEvent(event)
        if first:
            self.fit_to_window()

    def cursor_doc_position(self) -> QPointF | None:
        pos = self.mapFromGlobal(QCursor.pos())
        return self.widget_to_doc(QPointF(pos)) if self.rect().contains(pos) else None
