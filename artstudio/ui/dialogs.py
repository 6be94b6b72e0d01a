"""Small dialogs and the OK/Cancel row they share."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QSpinBox, QWidget


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
