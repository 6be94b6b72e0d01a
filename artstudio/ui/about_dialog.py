"""Help > About: the version, where the log is, and the models that ship with
the app with their licences (artstudio.licences reads them from the files)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from artstudio import APP_NAME, __version__
from artstudio.licences import bundled_files
from artstudio.resources import icon_file
from artstudio.ui.tables import text_table


class AboutDialog(QDialog):
    def __init__(self, log_file: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(760, 420)
        layout = QVBoxLayout(self)

        top = QHBoxLayout()
        self.icon = icon = QLabel()
        icon.setPixmap(QPixmap(str(icon_file())).scaled(
            96, 96, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        top.addWidget(icon)
        where = f"<p>Log file: {log_file}</p>" if log_file else ""
        self.text = QLabel(f"<h3>{APP_NAME} {__version__}</h3>"
                           "<p>A painting application with local generative models beside "
                           "the brush. Everything runs on this computer.</p>"
                           f"<p>Licence: GPL-3.0-or-later.</p>{where}")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.text, 1)
        layout.addLayout(top)

        layout.addWidget(QLabel("Models and data files that come with Artstudio:"))
        files = bundled_files()
        self.table = text_table(["File", "What it is", "Licence"],
                                [(f.name, f.what, f.licence) for f in files])
        layout.addWidget(self.table, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
