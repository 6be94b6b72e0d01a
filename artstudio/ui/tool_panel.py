"""Tool choice and brush options: size, hardness, opacity, flow, colour,
pressure, fill tolerance, and the mask overlay switch."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from artstudio.document import BrushSettings
from artstudio.ui.canvas_view import CanvasView, Tool

# (tool, label, shortcut): the letters Krita and Photoshop users already know.
TOOLS = [
    (Tool.BRUSH, "Brush", "B"),
    (Tool.ERASER, "Eraser", "E"),
    (Tool.MASK_BRUSH, "Mask", "M"),
    (Tool.MASK_ERASER, "Unmask", "Shift+M"),
    (Tool.FILL, "Fill", "G"),
    (Tool.PICKER, "Pick", "I"),
    (Tool.MOVE, "Move", "V"),
    (Tool.FRAME, "Frame", "F"),
]


def _percent_slider(value: float) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(round(value * 100))
    return slider


class ToolBox(QToolBar):
    """The tool buttons, with their single-key shortcuts."""

    def __init__(self, canvas: CanvasView, parent: QWidget | None = None):
        super().__init__("Tools", parent)
        self.setObjectName("toolBox")
        self.setMovable(False)
        self.canvas = canvas
        self.group = QActionGroup(self)
        self.actions_by_tool: dict[Tool, QAction] = {}
        for tool, label, key in TOOLS:
            action = QAction(label, self, checkable=True)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(f"{label} ({key})")
            action.triggered.connect(lambda _=False, t=tool: canvas.set_tool(t))
            self.group.addAction(action)
            self.addAction(action)
            self.actions_by_tool[tool] = action
        self.actions_by_tool[canvas.tool].setChecked(True)
        canvas.tool_changed.connect(lambda t: self.actions_by_tool[t].setChecked(True))


class BrushPanel(QWidget):
    brush_changed = Signal(object)

    def __init__(self, canvas: CanvasView, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        s = canvas.brush_settings
        self.size = QSpinBox()
        self.size.setRange(1, 1000)
        self.size.setSuffix(" px")
        self.size.setValue(round(s.size))
        self.hardness = _percent_slider(s.hardness)
        self.opacity = _percent_slider(s.opacity)
        self.flow = _percent_slider(s.flow)
        self.pressure_size = QCheckBox("Pressure sets size")
        self.pressure_size.setChecked(s.pressure_size)
        self.pressure_opacity = QCheckBox("Pressure sets opacity")
        self.pressure_opacity.setChecked(s.pressure_opacity)
        self.color = QPushButton()
        self.color.setObjectName("brushColour")
        self.color.setFixedHeight(26)
        self.color.clicked.connect(self._choose_colour)
        self.tolerance = QSpinBox()
        self.tolerance.setRange(0, 255)
        self.tolerance.setValue(canvas.fill_tolerance)
        self.show_mask = QCheckBox("Show mask overlay")
        self.show_mask.setChecked(canvas.show_mask)
        self.show_mask.toggled.connect(canvas.set_show_mask)

        form = QFormLayout()
        form.addRow("Colour", self.color)
        form.addRow("Size", self.size)
        form.addRow("Hardness", self.hardness)
        form.addRow("Opacity", self.opacity)
        form.addRow("Flow", self.flow)
        form.addRow("Fill tolerance", self.tolerance)
        checks = QHBoxLayout()
        checks.addWidget(self.pressure_size)
        checks.addWidget(self.pressure_opacity)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(checks)
        layout.addWidget(self.show_mask)
        layout.addStretch(1)

        for widget in (self.size,):
            widget.valueChanged.connect(self._apply)
        for slider in (self.hardness, self.opacity, self.flow):
            slider.valueChanged.connect(self._apply)
        for check in (self.pressure_size, self.pressure_opacity):
            check.toggled.connect(self._apply)
        self.tolerance.valueChanged.connect(lambda v: setattr(canvas, "fill_tolerance", v))
        canvas.color_picked.connect(lambda _rgb: self.show_settings(canvas.brush_settings))
        self._updating = False
        self.show_settings(s)

    def show_settings(self, settings: BrushSettings) -> None:
        """Reflect settings changed elsewhere ([ and ], the colour picker)."""
        self._updating = True
        try:
            self.size.setValue(round(settings.size))
            r, g, b = settings.color
            text = "#000000" if (r * 299 + g * 587 + b * 114) / 1000 > 128 else "#ffffff"
            self.color.setStyleSheet(f"background: rgb({r},{g},{b}); color: {text};")
            self.color.setText(f"#{r:02x}{g:02x}{b:02x}")
        finally:
            self._updating = False

    def _apply(self) -> None:
        if self._updating:
            return
        settings = self.canvas.brush_settings.with_(
            size=float(self.size.value()),
            hardness=self.hardness.value() / 100,
            opacity=self.opacity.value() / 100,
            flow=self.flow.value() / 100,
            pressure_size=self.pressure_size.isChecked(),
            pressure_opacity=self.pressure_opacity.isChecked(),
        )
        self.canvas.set_brush_settings(settings)
        self.brush_changed.emit(settings)

    def set_colour(self, rgb: tuple[int, int, int]) -> None:
        self.canvas.set_brush_settings(self.canvas.brush_settings.with_(color=tuple(rgb)))
        self.show_settings(self.canvas.brush_settings)

    def _choose_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(*self.canvas.brush_settings.color), self,
                                       "Brush colour")
        if colour.isValid():
            self.set_colour((colour.red(), colour.green(), colour.blue()))
