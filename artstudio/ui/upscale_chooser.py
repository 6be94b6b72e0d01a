"""Choosing how to upscale: the built-in networks, Lanczos, or a model file
(any upscaler spandrel knows), with the output scale, tile size and seamless
mode. One widget serves Image > Upscale and the folder batch dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from artstudio import paths
from artstudio.upscale.builtin import BUILTIN
from artstudio.upscale.tiler import MIN_TILE
from artstudio.upscale.upscaling import UpscaleOptions

BUILTIN_LABEL = "Built-in (2x, or 4x above 2x)"
LANCZOS_LABEL = "Lanczos (no model)"


class UpscaleChooser(QWidget):
    def __init__(self, parent: QWidget | None = None, device: str = "auto"):
        super().__init__(parent)
        self.device = device
        self.model = QComboBox()
        self.model.setObjectName("upscaleModel")
        self.model.addItem(BUILTIN_LABEL, BUILTIN)
        self.model.addItem(LANCZOS_LABEL, None)
        browse = QPushButton("Model file…")
        browse.clicked.connect(self._browse)
        model_row = QHBoxLayout()
        model_row.setContentsMargins(0, 0, 0, 0)
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse)

        self.scale = QDoubleSpinBox()
        self.scale.setRange(1.0, 8.0)
        self.scale.setSingleStep(0.5)
        self.scale.setValue(2.0)
        self.scale.setSuffix(" ×")
        self.tile = QSpinBox()
        self.tile.setRange(0, 2048)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("Automatic")
        self.tile.setSuffix(" px")
        self.tile.setToolTip("Tile side: smaller tiles use less memory. Automatic follows the "
                             "free memory and halves the tile if it runs out.")
        self.seamless = QCheckBox("Seamless texture (wrap around the borders)")

        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Upscaler", model_row)
        self.form.addRow("Scale", self.scale)
        self.form.addRow("Tile", self.tile)
        self.form.addRow("", self.seamless)
        self.model.currentIndexChanged.connect(self._model_changed)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Upscaler model",
                                              str(paths.user_models_dir()),
                                              "Upscaler models (*.pth *.safetensors)")
        if name:
            self.set_model_file(name)

    def set_found(self, infos) -> None:
        """List the upscalers found in the model folders (ModelInfo), after the
        built-in one and Lanczos; the current choice stays selected."""
        current = self.model.currentData()
        for info in infos:
            path = str(info.path)
            if self.model.findData(path) < 0:
                kind = "SD x4, " if info.format == "diffusers" else ""
                self.model.addItem(f"{info.name}  ({kind}{info.size / 2**20:.0f} MB)", path)
                self.model.setItemData(self.model.count() - 1, path,
                                       Qt.ItemDataRole.ToolTipRole)
        self.model.setCurrentIndex(max(0, self.model.findData(current)))

    def set_model_file(self, path: str) -> None:
        """Add a model file to the list (once) and select it."""
        index = self.model.findData(path)
        if index < 0:
            self.model.addItem(Path(path).name, path)
            index = self.model.count() - 1
            self.model.setItemData(index, path, Qt.ItemDataRole.ToolTipRole)
        self.model.setCurrentIndex(index)

    def _model_changed(self) -> None:
        uses_model = self.model.currentData() is not None
        self.tile.setEnabled(uses_model)
        self.seamless.setEnabled(uses_model)

    def options(self) -> UpscaleOptions:
        tile = self.tile.value()
        return UpscaleOptions(model=self.model.currentData(), scale=self.scale.value(),
                              tile=max(MIN_TILE, tile) if tile else None,
                              seamless=self.seamless.isChecked() and self.model.currentData()
                              is not None, device=self.device)
