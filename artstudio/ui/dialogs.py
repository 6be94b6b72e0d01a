"""Small dialogs and the OK/Cancel row they share."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from artstudio.document.autosave import AutosaveEntry


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class SizeDialog(QDialog):
    """Width and height in pixels (canvas size, image size, new document);
    subclasses add rows to `self.form` before `finish()`."""

    def __init__(self, title: str, width: int, height: int, parent: QWidget | None = None,
                 minimum: int = 1, finish: bool = True):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.width_box, self.height_box = QSpinBox(), QSpinBox()
        for box, value in ((self.width_box, width), (self.height_box, height)):
            box.setRange(minimum, 32768)
            box.setSuffix(" px")
            box.setValue(value)
        self.form = QFormLayout(self)
        self.form.addRow("Width", self.width_box)
        self.form.addRow("Height", self.height_box)
        if finish:
            self.finish()

    def finish(self) -> None:
        self.form.addRow(ok_cancel(self))

    def size_chosen(self) -> tuple[int, int]:
        return self.width_box.value(), self.height_box.value()


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def describe_autosave(entry: AutosaveEntry) -> str:
    """One line per autosave: what, when, and how the file on disk compares."""
    line = f"“{entry.title}”, autosaved {_when(entry.timestamp)}"
    if entry.original_path is None:
        return f"{line}; never saved to a file"
    if entry.file_mtime is None:
        return f"{line}; its file {entry.original_path.name} is gone"
    if entry.file_is_newer:
        return (f"{line}; the file {entry.original_path.name} on disk is newer "
                f"(changed {_when(entry.file_mtime)})")
    return f"{line}; newer than its file {entry.original_path.name}"


class RecoveryDialog(QDialog):
    """Autosaves a crash left behind: recover or discard the chosen one, or
    decide later (they are offered again at the next start)."""

    RECOVER, DISCARD = 1, 2

    def __init__(self, entries: Sequence[AutosaveEntry], open_title: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work")
        self.entries = list(entries)
        layout = QVBoxLayout(self)
        text = ("Artstudio did not close normally. These autosaves hold work that "
                "was not saved:")
        if open_title:
            text += (f"\nRecovering one replaces the open “{open_title}” (it has no "
                     "unsaved changes; its file stays as it is).")
        self.message = QLabel(text)
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.list = QListWidget()
        for entry in self.entries:
            self.list.addItem(describe_autosave(entry))
        self.list.setCurrentRow(0)
        self.list.setMinimumWidth(560)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox()
        self.recover_button = buttons.addButton("Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_button = buttons.addButton("Discard",
                                                QDialogButtonBox.ButtonRole.DestructiveRole)
        self.later_button = buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.clicked.connect(lambda: self.done(self.RECOVER))
        self.discard_button.clicked.connect(lambda: self.done(self.DISCARD))
        self.later_button.clicked.connect(self.reject)
        layout.addWidget(buttons)

    @property
    def chosen(self) -> AutosaveEntry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None
