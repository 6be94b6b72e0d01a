"""The Generate panel's LoRA list: the LoRAs found (another family's greyed,
the reason as tooltip), a weight slider per chosen LoRA and its trigger words
as buttons that insert them. The prompt's `<lora:name:weight>` tags are the
one record of what is chosen: ticking, sliding and typing all edit them
(diffusion.prompt_tags), and the list follows the text both ways."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from artstudio.diffusion import prompt_tags
from artstudio.engine import JobKind, Lane

SLIDER_STEPS = 20  # slider units per weight unit: 0.05 a step
MAX_SLIDER_WEIGHT = 2.0


class LoraRow(QWidget):
    """One chosen LoRA: its name, a weight slider, its trigger words."""

    def __init__(self, name: str, weight: float, triggers: tuple[str, ...] | None,
                 owner: LoraList):
        super().__init__()
        self.name = name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        top = QHBoxLayout()
        label = QLabel(name if triggers is not None else f"{name} (not found)")
        if triggers is None:
            label.setToolTip("No LoRA of this name in the LoRA folders: generating will say so")
        top.addWidget(label, 1)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"loraWeight:{name}")
        limit = int(MAX_SLIDER_WEIGHT * SLIDER_STEPS)
        self.slider.setRange(-limit, limit)
        self.slider.setToolTip(f"The weight of {name} (its tag in the prompt)")
        self.value = QLabel()
        self.value.setMinimumWidth(32)
        self.set_weight(weight)
        self.slider.valueChanged.connect(
            lambda v: owner.set_weight(name, v / SLIDER_STEPS))
        top.addWidget(self.slider, 2)
        top.addWidget(self.value)
        layout.addLayout(top)
        if triggers:
            chips = QHBoxLayout()
            chips.setSpacing(2)
            for word in triggers:
                chip = QToolButton()
                chip.setText(word)
                chip.setObjectName(f"loraTrigger:{word}")
                chip.setToolTip(f"Insert “{word}” into the prompt ({name}'s trigger word)")
                chip.clicked.connect(lambda _c=False, w=word: owner.insert_word(w))
                chips.addWidget(chip)
            chips.addStretch(1)
            layout.addLayout(chips)

    def set_weight(self, weight: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(weight * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self.value.setText(f"{weight:g}")


class LoraList(QWidget):
    def __init__(self, prompt: QPlainTextEdit, parent: QWidget | None = None):
        super().__init__(parent)
        self.prompt = prompt
        self.family = ""
        self.infos: list = []
        self.rows: dict[str, LoraRow] = {}
        self._syncing = False
        self.found = QListWidget()
        self.found.setObjectName("loraList")
        self.found.setMaximumHeight(80)
        self.found.itemChanged.connect(self._ticked)
        self.chosen = QVBoxLayout()
        self.chosen.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.found)
        layout.addLayout(self.chosen)
        prompt.textChanged.connect(self.follow_prompt)

    # ---- what is found -----------------------------------------------------
    def refresh(self, runner) -> None:
        """Look for LoRAs on the pool (reading their headers takes a while
        with many files); the list fills when done."""
        from artstudio.diffusion.loras import find_loras_job

        runner.run(find_loras_job, (), title="Find LoRAs", kind=JobKind.INTERNAL, lane=Lane.POOL,
                   on_done=self.set_loras)

    def set_loras(self, infos: list) -> None:
        self.infos = list(infos)
        self._fill()

    def set_family(self, family: str) -> None:
        self.family = family
        self._fill()

    def _fill(self) -> None:
        self._syncing = True
        self.found.clear()
        chosen = prompt_tags.tags(self.prompt.toPlainText())
        for info in self.infos:
            item = QListWidgetItem(info.name)
            item.setData(Qt.ItemDataRole.UserRole, info)
            reason = info.unusable_with(self.family) if self.family else None
            if reason:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setToolTip(reason)
            else:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                words = ", ".join(info.triggers) or "none found"
                item.setToolTip(f"{info.path}\nTrigger words: {words}")
                item.setCheckState(Qt.CheckState.Checked if info.name in chosen
                                   else Qt.CheckState.Unchecked)
            self.found.addItem(item)
        if not self.infos:
            item = QListWidgetItem("No LoRAs found (models/Lora, models/loras)")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.found.addItem(item)
        self._syncing = False
        self.follow_prompt()

    # ---- the prompt's tags, both ways --------------------------------------
    def _edit_prompt(self, text: str) -> None:
        if text == self.prompt.toPlainText():
            return
        self._syncing = True
        self.prompt.setPlainText(text)
        self._syncing = False
        self.follow_prompt()

    def _ticked(self, item: QListWidgetItem) -> None:
        info = item.data(Qt.ItemDataRole.UserRole)
        if self._syncing or info is None:
            return
        text = self.prompt.toPlainText()
        if item.checkState() == Qt.CheckState.Checked:
            self._edit_prompt(prompt_tags.with_tag(text, info.name, 1.0))
        else:
            self._edit_prompt(prompt_tags.without_tag(text, info.name))

    def set_weight(self, name: str, weight: float) -> None:
        self._edit_prompt(prompt_tags.with_tag(self.prompt.toPlainText(), name, weight))

    def insert_word(self, word: str) -> None:
        self._edit_prompt(prompt_tags.with_word(self.prompt.toPlainText(), word))

    def follow_prompt(self) -> None:
        """The ticks and sliders as the prompt's tags say."""
        if self._syncing:
            return
        chosen = prompt_tags.tags(self.prompt.toPlainText())
        self._syncing = True
        for i in range(self.found.count()):
            item = self.found.item(i)
            info = item.data(Qt.ItemDataRole.UserRole)
            if info is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                item.setCheckState(Qt.CheckState.Checked if info.name in chosen
                                   else Qt.CheckState.Unchecked)
        self._syncing = False
        for name in [n for n in self.rows if n not in chosen]:
            row = self.rows.pop(name)
            self.chosen.removeWidget(row)
            row.deleteLater()
        by_name = {info.name: info for info in self.infos}
        for name, weight in chosen.items():
            if name not in self.rows:
                info = by_name.get(name)
                self.rows[name] = LoraRow(name, weight, info.triggers if info else None, self)
                self.chosen.addWidget(self.rows[name])
            self.rows[name].set_weight(weight)
