"""Settings: device, memory, model folders, autosave; saved with platformdirs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from artstudio.engine.devices import (
    DEVICE_CHOICES,
    PRECISION_CHOICES,
    choose_device,
    torch_imported,
)
from artstudio.model_files.folder_check import model_folder_problem
from artstudio.settings import OFFLOAD_CHOICES, Settings, remember_folder, start_folder
from artstudio.ui.dialogs import ok_cancel

DEVICE_LABELS = {"auto": "Automatic (GPU when present)", "cuda": "NVIDIA CUDA",
                 "mps": "Apple Metal (MPS)", "cpu": "CPU only"}
PRECISION_LABELS = {"auto": "Automatic (half on GPUs)", "float16": "float16",
                    "bfloat16": "bfloat16", "float32": "float32"}
OFFLOAD_LABELS = {"auto": "Automatic (below 6 GB of VRAM)", "on": "Always", "off": "Never"}


def _combo(choices, labels, current) -> QComboBox:
    combo = QComboBox()
    for value in choices:
        combo.addItem(labels.get(value, value), value)
    index = combo.findData(current)
    combo.setCurrentIndex(max(0, index))
    return combo


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original = settings
        self.device = _combo(DEVICE_CHOICES, DEVICE_LABELS, settings.device)
        self.precision = _combo(PRECISION_CHOICES, PRECISION_LABELS, settings.precision)
        self.offload = _combo(OFFLOAD_CHOICES, OFFLOAD_LABELS, settings.cpu_offload)
        self.memory = QSpinBox()
        self.memory.setRange(0, 1 << 20)
        self.memory.setSingleStep(512)
        self.memory.setSuffix(" MB")
        self.memory.setSpecialValueText("Automatic (half the memory)")
        self.memory.setValue(settings.memory_budget_mb)
        self.autosave = QSpinBox()
        self.autosave.setRange(0, 24 * 60)
        self.autosave.setSuffix(" min")
        self.autosave.setSpecialValueText("Off")
        self.autosave.setValue(round(settings.autosave_interval_s / 60))
        self.max_pixels = QSpinBox()
        self.max_pixels.setRange(1, 100_000)
        self.max_pixels.setSuffix(" megapixels")
        self.max_pixels.setValue(settings.max_image_megapixels)
        self.ray_address = QLineEdit(settings.ray_address)
        self.ray_address.setPlaceholderText("auto, or the head node's HOST:PORT")
        self.ray_address.setToolTip("Folder batches can run on this Ray cluster; input and "
                                    "output folders must be on storage every node mounts")
        self.device_note = QLabel()
        self.device_note.setObjectName("deviceNote")
        self.device_note.setWordWrap(True)
        for combo in (self.device, self.precision):
            combo.currentIndexChanged.connect(self._show_device_choice)
        self._show_device_choice()
        self.folder_note = QLabel()
        self.folder_note.setObjectName("folderNote")
        self.folder_note.setWordWrap(True)
        self.folders = QListWidget()
        for folder in settings.model_folders:
            self._add_folder_item(folder)
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_folder)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_folder)
        folder_buttons = QHBoxLayout()
        folder_buttons.addWidget(add)
        folder_buttons.addWidget(remove)
        folder_buttons.addStretch(1)
        folder_box = QVBoxLayout()
        folder_box.addWidget(self.folders)
        folder_box.addWidget(self.folder_note)
        folder_box.addLayout(folder_buttons)

        form = QFormLayout()
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("", self.device_note)
        form.addRow("Model CPU offload", self.offload)
        form.addRow("Model memory budget", self.memory)
        form.addRow("Model folders", folder_box)
        form.addRow("Autosave every", self.autosave)
        form.addRow("Largest image to open", self.max_pixels)
        form.addRow("Ray cluster for batches", self.ray_address)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(ok_cancel(self))

    def _show_device_choice(self) -> None:
        """What the chosen device and precision give on this computer, and why."""
        if not torch_imported():  # the first import takes seconds: the probe does it
            self.device_note.setText("The device is checked when the settings apply")
            return
        choice = choose_device(self.device.currentData(), self.precision.currentData())
        self.device_note.setText(("⚠ " if choice.fell_back else "") + choice.note())

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Add a model folder", str(start_folder(self._original, "models")))
        if not folder:
            return
        remember_folder(self._original, "models", Path(folder))
        problem = model_folder_problem(folder)
        if problem is not None and problem[1]:
            QMessageBox.warning(self, "Not a model folder", problem[0])
            return
        if not self.folders.findItems(folder, Qt.MatchFlag.MatchExactly):
            self._add_folder_item(folder, problem)

    def _add_folder_item(self, folder: str, problem=False) -> None:
        """A folder in the list; one that holds no models (or cannot be read) is
        flagged, with the reason under the list and in its tooltip."""
        if problem is False:
            problem = model_folder_problem(folder)
        item = QListWidgetItem(folder)
        if problem is not None:
            item.setToolTip(problem[0])
            item.setIcon(self.style().standardIcon(
                self.style().StandardPixmap.SP_MessageBoxWarning))
            self.folder_note.setText(f"⚠ {problem[0]}")
        self.folders.addItem(item)

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))

    def result_settings(self) -> Settings:
        """The edited settings (the original object is not changed)."""
        return dataclasses.replace(
            self._original,
            device=self.device.currentData(),
            precision=self.precision.currentData(),
            cpu_offload=self.offload.currentData(),
            memory_budget_mb=self.memory.value(),
            autosave_interval_s=self.autosave.value() * 60,
            max_image_megapixels=self.max_pixels.value(),
            ray_address=self.ray_address.text().strip(),
            model_folders=[self.folders.item(i).text() for i in range(self.folders.count())],
        )
