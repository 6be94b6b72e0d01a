"""The parts of a split model (ComfyUI's diffusion_models + text_encoders +
vae), one combo per part, for the artist to pick between the files that fit:
an fp16 T5 or an fp8 one, FLUX's ae or another 16-channel VAE."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from artstudio.engine.printable import printable
from artstudio.model_files.component_sets import ComponentSet, part_choices
from artstudio.model_files.components import VAE


class ModelParts(QWidget):
    """Shows the set assembled for one split model; empty for any other model."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("modelParts")
        self.model_path: Path | None = None  # the split model these parts belong to
        self.combos: dict[str, QComboBox] = {}  # the parts with alternatives
        self.chosen: dict[str, str] = {}  # slot kind -> the file in use
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self._layout.addWidget(self.problem)

    def clear(self) -> None:
        self.model_path = None
        for widget in self.findChildren(QWidget):
            if widget is not self.problem and widget.parent() is self:
                widget.deleteLater()
        self.combos, self.chosen = {}, {}
        self.problem.clear()

    def show_set(self, found: ComponentSet) -> None:
        self.clear()
        self.model_path = found.transformer
        for choice in part_choices(found):
            self._add(QLabel(choice.label + ":"))
            self.chosen[choice.slot] = str(choice.options[0])
            if len(choice.options) == 1:  # nothing to choose: the file's name is enough
                name = QLabel(printable(choice.options[0].stem))
                name.setToolTip(printable(str(choice.options[0])))
                self._add(name)
                continue
            combo = QComboBox()
            combo.setObjectName(f"part-{choice.slot}")
            for path in choice.options:
                combo.addItem(printable(path.stem), str(path))
                combo.setItemData(combo.count() - 1, printable(str(path)),
                                  Qt.ItemDataRole.ToolTipRole)
            combo.currentIndexChanged.connect(
                lambda _i, slot=choice.slot, c=combo: self.chosen.update({slot: c.currentData()}))
            self._add(combo, 1)
            self.combos[choice.slot] = combo
        # What is missing stays visible: Generate would be refused for it.
        self.problem.setText(found.problem())
        self.setToolTip("\n".join((*found.notes, *found.optional_missing)))

    def _add(self, widget: QWidget, stretch: int = 0) -> None:
        self._layout.insertWidget(self._layout.count() - 1, widget, stretch)

    def show_problem(self, path: Path, message: str) -> None:
        self.clear()
        self.model_path = path
        self.problem.setText(message)

    def text_encoders(self) -> tuple[str, ...]:
        return tuple(path for slot, path in self.chosen.items() if slot != VAE)

    def vae(self) -> str | None:
        return self.chosen.get(VAE)

