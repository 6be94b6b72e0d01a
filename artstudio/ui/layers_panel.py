"""The layers panel: the stack top-first with thumbnails, visibility, names,
drag to reorder, opacity, blend mode, lock alpha, the layer's guide (control
layer, region, reference; marked with a badge), and the layer commands."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from artstudio.document import BlendMode, Document, Layer
from artstudio.ui.guide_layers import GuideEditor, guide_tooltip, paint_badge

THUMB = 44


def layer_thumbnail(layer: Layer, size: int = THUMB) -> QPixmap:
    """A small picture of the layer over a checkerboard (sampled, not resampled:
    thumbnails refresh while painting and must stay cheap)."""
    pixels = layer.pixels
    h, w = pixels.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / size)))
    small = np.ascontiguousarray(pixels[::step, ::step])
    sh, sw = small.shape[:2]
    image = QImage(small.data, sw, sh, small.strides[0], QImage.Format.Format_RGBA8888).copy()
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(200, 200, 200))
    painter = QPainter(pixmap)
    for y in range(0, size, 6):
        for x in range(0, size, 6):
            if (x // 6 + y // 6) % 2:
                painter.fillRect(x, y, 6, 6, QColor(160, 160, 160))
    painter.drawImage((size - sw) // 2, (size - sh) // 2, image)
    paint_badge(painter, layer.guide, size)
    painter.end()
    return pixmap


class LayersPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc: Document | None = None
        self.list = QListWidget()
        self.list.setObjectName("layersList")
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.currentRowChanged.connect(self._row_selected)
        self.list.itemChanged.connect(self._item_edited)
        self.list.model().rowsMoved.connect(self._rows_moved)

        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.sliderReleased.connect(self._opacity_committed)
        # Keys, the wheel and clicks on the track change the value without a
        # drag; a drag commits once, on release (one undo step, not fifty).
        self.opacity.valueChanged.connect(
            lambda _v: None if self.opacity.isSliderDown() else self._opacity_committed())
        self.opacity_label = QLabel("100 %")
        self.opacity.valueChanged.connect(lambda v: self.opacity_label.setText(f"{v} %"))
        self.blend = QComboBox()
        for mode in BlendMode:
            self.blend.addItem(mode.label, mode)
        self.blend.activated.connect(self._blend_chosen)
        self.lock_alpha = QCheckBox("Lock alpha")
        self.lock_alpha.clicked.connect(self._lock_alpha_clicked)

        grid = QGridLayout()
        grid.addWidget(QLabel("Opacity"), 0, 0)
        grid.addWidget(self.opacity, 0, 1)
        grid.addWidget(self.opacity_label, 0, 2)
        grid.addWidget(QLabel("Blend"), 1, 0)
        grid.addWidget(self.blend, 1, 1, 1, 2)
        grid.addWidget(self.lock_alpha, 2, 0, 1, 3)
        # Under the list, so the rows stay where they are as its height follows the role.
        self.guide = GuideEditor()  # the active layer as a control layer, region or reference

        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        for key, text, tip in [
            ("add", "New", "New layer (Ctrl+Shift+N)"),
            ("duplicate", "Copy", "Duplicate layer (Ctrl+J)"),
            ("delete", "Delete", "Delete layer"),
            ("merge", "Merge", "Merge down (Ctrl+E)"),
            ("flatten", "Flatten", "Flatten image"),
        ]:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.clicked.connect(getattr(self, f"{key}_layer"))
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(grid)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.guide)
        layout.addLayout(row)

        self._thumb_timer = QTimer(self, singleShot=True, interval=250)
        self._thumb_timer.timeout.connect(self._refresh_thumbnails)
        self._dirty_thumbs: set[int] = set()
        self._rebuilding = False
        self._in_item_edit = False
        self.setEnabled(False)

    # ---- binding ---------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            events = self.doc.events
            events.layers_changed.disconnect(self.rebuild)
            events.active_layer_changed.disconnect(self._active_changed)
            events.pixels_changed.disconnect(self._pixels_changed)
        self.doc = doc
        self.guide.set_document(doc)
        if doc is not None:
            doc.events.layers_changed.connect(self.rebuild)
            doc.events.active_layer_changed.connect(self._active_changed)
            doc.events.pixels_changed.connect(self._pixels_changed)
        self.setEnabled(doc is not None)
        self.rebuild()

    # List rows are top-first; document indices are bottom-first.
    def _row_of(self, index: int) -> int:
        return len(self.doc.layers) - 1 - index

    def _index_of(self, row: int) -> int:
        return len(self.doc.layers) - 1 - row

    def rebuild(self) -> None:
        if self._in_item_edit:
            # Clearing the list inside its own itemChanged handler would delete
            # the item Qt is still delivering; rebuild right after instead.
            QTimer.singleShot(0, self, self.rebuild)
            return
        self._rebuilding = True
        try:
            self.list.clear()
            if self.doc is None:
                return
            for layer in reversed(self.doc.layers):
                item = QListWidgetItem(QIcon(layer_thumbnail(layer)), layer.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable
                              | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
                item.setCheckState(Qt.CheckState.Checked if layer.visible
                                   else Qt.CheckState.Unchecked)
                item.setToolTip(f"{layer.name}: {layer.width}x{layer.height} at "
                                f"({layer.x}, {layer.y})"
                                + ("\nMade by generation" if layer.generation else "")
                                + guide_tooltip(layer.guide))
                self.list.addItem(item)
            if self.doc.active_index >= 0:
                self.list.setCurrentRow(self._row_of(self.doc.active_index))
        finally:
            self._rebuilding = False
        self._show_properties()
        has = self.doc is not None and len(self.doc.layers) > 0
        for key in ("duplicate", "delete", "flatten"):
            self.buttons[key].setEnabled(has)
        self.buttons["merge"].setEnabled(has and self.doc.active_index > 0)

    def _show_properties(self) -> None:
        self.guide.show_layer()
        layer = self.doc.active_layer if self.doc is not None else None
        for widget in (self.opacity, self.blend, self.lock_alpha):
            widget.setEnabled(layer is not None)
        if layer is None:
            return
        self.opacity.blockSignals(True)
        self.opacity.setValue(round(layer.opacity * 100))
        self.opacity.blockSignals(False)
        self.opacity_label.setText(f"{round(layer.opacity * 100)} %")
        self.blend.setCurrentIndex(max(0, self.blend.findData(layer.blend)))
        self.lock_alpha.setChecked(layer.lock_alpha)

    def _active_changed(self, index: int) -> None:
        if self.doc is None or index < 0:
            return
        self._rebuilding = True
        self.list.setCurrentRow(self._row_of(index))
        self._rebuilding = False
        self._show_properties()
        self.buttons["merge"].setEnabled(index > 0)

    def _pixels_changed(self, index: int, _rect) -> None:
        self._dirty_thumbs.add(index)
        self._thumb_timer.start()

    def _refresh_thumbnails(self) -> None:
        if self.doc is None:
            return
        for index in self._dirty_thumbs:
            if 0 <= index < len(self.doc.layers):
                item = self.list.item(self._row_of(index))
                if item is not None:
                    item.setIcon(QIcon(layer_thumbnail(self.doc.layer(index))))
        self._dirty_thumbs.clear()

    # ---- edits from the panel --------------------------------------------
    def _row_selected(self, row: int) -> None:
        if self._rebuilding or self.doc is None or row < 0:
            return
        self.doc.active_index = self._index_of(row)
        self._show_properties()

    def _item_edited(self, item: QListWidgetItem) -> None:
        if self._rebuilding or self.doc is None:
            return
        index = self._index_of(self.list.row(item))
        layer = self.doc.layer(index)
        visible = item.checkState() == Qt.CheckState.Checked
        name = item.text().strip()
        self._in_item_edit = True
        try:
            if visible != layer.visible:
                self.doc.set_layer_visible(index, visible)
            if name and name != layer.name:
                self.doc.rename_layer(index, name)
        finally:
            self._in_item_edit = False

    def _rows_moved(self, _parent, start, _end, _dest, dest_row) -> None:
        if self._rebuilding or self.doc is None:
            return
        target_row = dest_row - 1 if dest_row > start else dest_row
        QTimer.singleShot(0, lambda: self.doc.move_layer(self._index_of(start),
                                                         self._index_of(target_row)))

    def _opacity_committed(self) -> None:
        layer = self.doc.active_layer if self.doc is not None else None
        value = self.opacity.value() / 100
        if layer is not None and abs(layer.opacity - value) > 1e-6:
            self.doc.set_layer_opacity(self.doc.active_index, value)

    def _blend_chosen(self, _row: int) -> None:
        if self.doc is not None and self.doc.active_layer is not None:
            self.doc.set_layer_blend(self.doc.active_index, self.blend.currentData())

    def _lock_alpha_clicked(self, checked: bool) -> None:
        if self.doc is not None and self.doc.active_layer is not None:
            self.doc.set_layer_lock_alpha(self.doc.active_index, checked)

    # ---- commands (also bound to menu actions) ----------------------------
    def add_layer(self) -> None:
        if self.doc is not None:
            self.doc.add_layer()

    def duplicate_layer(self) -> None:
        if self.doc is not None and self.doc.active_layer is not None:
            self.doc.duplicate_layer(self.doc.active_index)

    def delete_layer(self) -> None:
        if self.doc is not None and self.doc.active_layer is not None:
            self.doc.delete_layer(self.doc.active_index)

    def merge_layer(self) -> None:
        """Merge Down; when one layer cannot keep the picture (see
        `Document.merge_down_is_exact`) the artist chooses how to merge."""
        if self.doc is None or self.doc.active_index <= 0:
            return
        index = self.doc.active_index
        if self.doc.merge_down_is_exact(index):
            self.doc.merge_down(index)
            return
        upper, lower = self.doc.layer(index), self.doc.layer(index - 1)
        box = QMessageBox(QMessageBox.Icon.Question, "Merge down",
                          f"Merging “{upper.name}” into “{lower.name}” "
                          f"({_describe(lower)}) would change the picture: no single "
                          "layer blends the way these two do over the layers beneath.\n\n"
                          "Merge visible makes one Normal layer of these and every visible "
                          "layer below, and keeps the picture.", parent=self)
        visible = box.addButton("Merge visible", QMessageBox.ButtonRole.AcceptRole)
        anyway = box.addButton("Merge down anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(visible)
        box.exec()
        if box.clickedButton() is visible:
            self.doc.merge_visible_down(index)
        elif box.clickedButton() is anyway:
            self.doc.merge_down(index)

    def flatten_layer(self) -> None:
        if self.doc is not None and self.doc.layers:
            self.doc.flatten()


def _describe(layer: Layer) -> str:
    mode = layer.blend.label
    return f"{mode}, {round(layer.opacity * 100)} %" if layer.visible else f"{mode}, hidden"
