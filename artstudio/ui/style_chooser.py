"""Choosing a style: built-in styles (a gallery; several selected blend), any
paintings, or a CycleGAN generator, with strength, working size and colour
options. One widget serves the Style panel and the folder batch dialog, so
both offer the same choices and a batch can start from the panel's."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from artstudio import paths
from artstudio.style.builtin_styles import BUILTIN_STYLES
from artstudio.style.transfer import StyleOptions
from artstudio.ui.images import pil_to_pixmap

THUMB = 72
ENGINES = (("builtin", "Built-in styles"), ("arbitrary", "A painting as the style"),
           ("cyclegan", "CycleGAN painter"))


def gallery_folder() -> Path:
    """Where the style thumbnails are cached. They are only a cache, so with
    a data folder that cannot be written (a full or read-only home) they go
    to the temporary folder instead of leaving the gallery blank."""
    preferred = paths.data_dir() / "style-thumbnails"
    try:
        preferred.mkdir(parents=True, exist_ok=True)
        if os.access(preferred, os.W_OK):
            return preferred
    except OSError:
        pass
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"artstudio-style-thumbnails-{user}"


def thumbnail_path(index: int) -> Path:
    return gallery_folder() / f"{index:02d}-{BUILTIN_STYLES[index]}.png"


@dataclass
class StyleChoice:
    """What the chooser shows, to copy from one chooser to another."""

    engine: str = "builtin"
    styles: list[int] = field(default_factory=lambda: [0])
    paintings: list[str] = field(default_factory=list)
    cyclegan: str | None = None
    strength: int = 100
    max_size: int = 1024
    preserve: bool = False


class StyleChooser(QWidget):
    def __init__(self, parent: QWidget | None = None, default_max_size: int = 1024):
        super().__init__(parent)
        self.paintings: list[str] = []
        self.cyclegan_path: str | None = None

        self.engine = QComboBox()
        for key, label in ENGINES:
            self.engine.addItem(label, key)
        self.engine.currentIndexChanged.connect(lambda i: self.pages.setCurrentIndex(i))

        self.gallery = QListWidget()
        self.gallery.setObjectName("styleGallery")
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setGridSize(QSize(THUMB + 16, THUMB + 22))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMovement(QListWidget.Movement.Static)
        self.gallery.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.gallery.setToolTip("Select one style, or several (Ctrl+click) to blend them")
        for i, name in enumerate(BUILTIN_STYLES):
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.gallery.addItem(item)
        self.gallery.setCurrentRow(0)
        self.show_thumbnails()

        painting_page = QWidget()
        self.painting_list = QListWidget()
        choose = QPushButton("Add paintings…")
        choose.clicked.connect(self._choose_paintings)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear_paintings)
        row = QHBoxLayout()
        row.addWidget(choose)
        row.addWidget(clear)
        page_layout = QVBoxLayout(painting_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self.painting_list)
        page_layout.addLayout(row)

        cyclegan_page = QWidget()
        self.cyclegan_label = QLabel("No generator chosen")
        self.cyclegan_label.setWordWrap(True)
        pick = QPushButton("Choose generator (.pth, .safetensors)…")
        pick.clicked.connect(self._choose_cyclegan)
        cg_layout = QVBoxLayout(cyclegan_page)
        cg_layout.setContentsMargins(0, 0, 0, 0)
        cg_layout.addWidget(self.cyclegan_label)
        cg_layout.addWidget(pick)
        cg_layout.addStretch(1)

        self.pages = QStackedWidget()
        for page in (self.gallery, painting_page, cyclegan_page):
            self.pages.addWidget(page)

        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(100)
        self.preserve = QCheckBox("Keep the original colours")
        self.max_size = QSpinBox()
        self.max_size.setRange(0, 16384)
        self.max_size.setSingleStep(256)
        self.max_size.setSuffix(" px")
        self.max_size.setSpecialValueText("Full size")
        self.max_size.setValue(default_max_size)
        self.max_size.setToolTip("Work at most at this size, then bring the result back to "
                                 "full size with the original's detail")

        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Style from", self.engine)
        self.form.addRow(self.pages)
        self.form.addRow("Strength", self.strength)
        self.form.addRow("Working size", self.max_size)
        self.form.addRow(self.preserve)

    # ---- the gallery -------------------------------------------------------
    def show_thumbnails(self) -> bool:
        """Show the cached style thumbnails; False when some are not rendered yet."""
        complete = True
        for i in range(len(BUILTIN_STYLES)):
            path = thumbnail_path(i)
            if path.is_file():
                self.gallery.item(i).setIcon(QIcon(QPixmap(str(path))))
            else:
                complete = False
        return complete

    # ---- paintings and generators ----------------------------------------
    def _choose_paintings(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Paintings to take the style from",
                                                str(Path.home()),
                                                "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
        self.add_paintings(names)

    def add_paintings(self, names) -> None:
        for name in names:
            if str(name) in self.paintings:
                continue
            self.paintings.append(str(name))
            item = QListWidgetItem(Path(name).name)
            item.setToolTip(str(name))
            try:
                with Image.open(name) as image:
                    image.thumbnail((48, 48))
                    item.setIcon(QIcon(pil_to_pixmap(image)))
            except OSError:
                pass  # an unreadable painting is reported clearly when the style runs
            self.painting_list.addItem(item)

    def clear_paintings(self) -> None:
        self.paintings.clear()
        self.painting_list.clear()

    def _choose_cyclegan(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "CycleGAN generator", str(Path.home()),
                                              "Generators (*.pth *.safetensors)")
        if name:
            self.set_cyclegan(name)

    def set_cyclegan(self, name: str) -> None:
        self.cyclegan_path = name
        self.cyclegan_label.setText(Path(name).name)

    def select_engine(self, engine: str) -> None:
        self.engine.setCurrentIndex(self.engine.findData(engine))

    def select_styles(self, indices) -> None:
        self.gallery.clearSelection()
        for i in indices:
            self.gallery.item(i).setSelected(True)
        if indices:  # move the focus without touching the selection
            self.gallery.setCurrentRow(indices[-1], QItemSelectionModel.SelectionFlag.NoUpdate)

    # ---- state -------------------------------------------------------------
    def choice(self) -> StyleChoice:
        styles = sorted(item.data(Qt.ItemDataRole.UserRole)
                        for item in self.gallery.selectedItems()) or [0]
        return StyleChoice(self.engine.currentData(), styles, list(self.paintings),
                           self.cyclegan_path, self.strength.value(), self.max_size.value(),
                           self.preserve.isChecked())

    def set_choice(self, choice: StyleChoice) -> None:
        self.select_engine(choice.engine)
        self.select_styles(choice.styles)
        self.clear_paintings()
        self.add_paintings(choice.paintings)
        if choice.cyclegan:
            self.set_cyclegan(choice.cyclegan)
        self.strength.setValue(choice.strength)
        self.max_size.setValue(choice.max_size)
        self.preserve.setChecked(choice.preserve)

    def options(self, device: str = "auto") -> StyleOptions:
        """The StyleOptions the widgets describe; ValueError says what is missing."""
        c = self.choice()
        common = {"strength": c.strength / 100, "preserve_color": c.preserve,
                  "device": device}
        if c.engine == "arbitrary":
            if not c.paintings:
                raise ValueError("Add a painting to take the style from")
            return StyleOptions.from_paintings(c.paintings, **common)
        common["max_size"] = c.max_size or None
        if c.engine == "cyclegan":
            if not c.cyclegan or not Path(c.cyclegan).is_file():
                raise ValueError("Choose a CycleGAN generator file")
            return StyleOptions.cyclegan(c.cyclegan, **common)
        return StyleOptions.builtin({i: 1.0 for i in c.styles}, **common)
