"""Guide layers in the window: the current layer's guide edited under the
layer list (control layer, region, reference), the badge that marks guide
layers in the list, and the Generate panel's line saying what the model's
family cannot use. What guides mean lives in document/guides.py and
control/from_document.py; this only shows and edits them."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSignalBlocker, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from artstudio.control import from_document
from artstudio.control.kinds import KINDS
from artstudio.control.preprocessors import available_preprocessors, unavailable_reason
from artstudio.document import Document
from artstudio.document.guides import CONTROL, REFERENCE, REGION, GuideError, describe, new_guide
from artstudio.engine import RequestRefused
from artstudio.engine.errors import UserFacingError

ROLE_LABELS = {None: "Plain layer", CONTROL: "Control layer", REGION: "Region",
               REFERENCE: "Reference"}
# The badge on a guide layer's thumbnail: a letter and a colour per role.
BADGES = {CONTROL: ("C", QColor(40, 120, 220)), REGION: ("R", QColor(220, 130, 30)),
          REFERENCE: ("I", QColor(60, 160, 80))}


def paint_badge(painter: QPainter, guide: dict | None, size: int) -> None:
    """Mark a guide layer's thumbnail (bottom-left corner)."""
    if guide is None:
        return
    letter, colour = BADGES[guide["role"]]
    side = max(12, size // 3)
    box = QRect(0, size - side, side, side)
    painter.fillRect(box, colour)
    painter.setPen(QColor(255, 255, 255))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(side - 3)
    painter.setFont(font)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, letter)


def guide_tooltip(guide: dict | None) -> str:
    if guide is None:
        return ""
    extra = {CONTROL: "guides while the layer is visible",
             REGION: "its painted area gets its prompt while the layer is visible",
             REFERENCE: "followed while the layer is visible"}[guide["role"]]
    return f"\n{describe(guide)} ({extra})"


def _spin(low: float, high: float, step: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setKeyboardTracking(False)  # typing commits once, on Enter or leaving the box
    box.setToolTip(tip)
    return box


class GuideEditor(QWidget):
    """The active layer's guide: what it is, and its settings."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc: Document | None = None
        self.runner = None  # a JobRunner: network preprocessors take seconds, off the GUI thread
        # The layer shown: an edit that lands after another layer became active
        # (a prompt committed as focus leaves it) still goes to this one.
        self._shown_uid: int | None = None
        self.role = QComboBox()
        self.role.setObjectName("guideRole")
        for role, label in ROLE_LABELS.items():
            self.role.addItem(label, role)
        self.role.setToolTip("Make the layer a control layer (its lines or picture steer the "
                             "composition), a region (its painted area gets its own prompt) "
                             "or a reference (\"make it look like this\")")
        self.role.activated.connect(self._role_chosen)

        self.kind = QComboBox()
        self.kind.setObjectName("guideKind")
        for name, spec in KINDS.items():
            self.kind.addItem(spec.label, name)
        self.kind.activated.connect(
            lambda _i: self._change(kind=self.kind.currentData(), preprocessor=""))
        self.preprocessor = QComboBox()
        self.preprocessor.setObjectName("guidePreprocessor")
        self.preprocessor.setToolTip("What makes the control image from the layer: the kind's "
                                     "own, or a network from the annotator folders")
        self.preprocessor.activated.connect(
            lambda _i: self._change(preprocessor=self.preprocessor.currentData()))
        self.strength = _spin(0.0, 2.0, 0.05, "How strongly it steers (ControlNet weight)")
        self.strength.valueChanged.connect(lambda v: self._change(strength=v))
        self.start = _spin(0.0, 1.0, 0.05, "The part of the steps it guides: from")
        self.start.valueChanged.connect(lambda v: self._change(start=v))
        self.end = _spin(0.0, 1.0, 0.05, "The part of the steps it guides: to")
        self.end.valueChanged.connect(lambda v: self._change(end=v))
        self.preprocess = QCheckBox("Preprocess")
        self.preprocess.setToolTip("Make the control image from the layer (edges, lines...); "
                                   "off: the layer already is the control image")
        self.preprocess.clicked.connect(lambda on: self._change(preprocess=on))
        self.show_control = QPushButton("Show control image")
        self.show_control.setObjectName("showControlImage")
        self.show_control.setToolTip("Put the control image of the frame on a new layer above; "
                                     "it becomes the control layer and this one is hidden")
        self.show_control.clicked.connect(self.show_control_image)
        steps = QHBoxLayout()
        steps.setContentsMargins(0, 0, 0, 0)
        steps.addWidget(self.start)
        steps.addWidget(QLabel("to"))
        steps.addWidget(self.end)
        self.control_box = QWidget()
        form = QFormLayout(self.control_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Kind", self.kind)
        form.addRow("Strength", self.strength)
        form.addRow("Steps", steps)
        form.addRow(self.preprocess)
        form.addRow("Made by", self.preprocessor)
        form.addRow(self.show_control)
        self._preprocessor_row = form.rowCount() - 2

        self.prompt = QLineEdit()
        self.prompt.setObjectName("regionPrompt")
        self.prompt.setPlaceholderText("What goes in this region…")
        self.prompt.editingFinished.connect(lambda: self._change(prompt=self.prompt.text()))
        self.region_box = QWidget()
        form = QFormLayout(self.region_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Prompt", self.prompt)

        self.weight = _spin(0.0, 2.0, 0.05, "How strongly the picture follows the reference")
        self.weight.valueChanged.connect(lambda v: self._change(weight=v))
        self.reference_box = QWidget()
        form = QFormLayout(self.reference_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Weight", self.weight)

        self.message = QLabel("")
        self.message.setObjectName("guideMessage")
        self.message.setWordWrap(True)
        # A long reason (a missing file and the folders looked in) wraps to the
        # dock's width instead of widening the dock over the canvas.
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        role_row = QFormLayout()
        role_row.setContentsMargins(0, 0, 0, 0)
        role_row.addRow("Guide", self.role)
        layout.addLayout(role_row)
        for box in (self.control_box, self.region_box, self.reference_box, self.message):
            layout.addWidget(box)
        self.show_layer()

    def set_document(self, doc: Document | None) -> None:
        self.doc = doc
        self.show_layer()

    def _layer(self):
        if self.doc is None or self._shown_uid is None:
            return None
        try:
            return self.doc.layer(self.doc.index_of(self._shown_uid))
        except ValueError:  # deleted meanwhile
            return None

    def show_layer(self) -> None:
        """Show the active layer's guide (called when the layers change)."""
        layer = self.doc.active_layer if self.doc is not None else None
        self._shown_uid = layer.uid if layer is not None else None
        self.role.setEnabled(layer is not None)
        guide = layer.guide if layer is not None else None
        role = guide["role"] if guide else None
        blockers = [QSignalBlocker(w) for w in (self.role, self.kind, self.strength, self.start,
                                                 self.end, self.preprocess, self.preprocessor,
                                                 self.prompt, self.weight)]
        self.role.setCurrentIndex(self.role.findData(role))
        self.control_box.setVisible(role == CONTROL)
        self.region_box.setVisible(role == REGION)
        self.reference_box.setVisible(role == REFERENCE)
        if role == CONTROL:
            self.preprocess.setChecked(guide["preprocess"])
            self._limit_kinds(guide["preprocess"])
            self.kind.setCurrentIndex(self.kind.findData(guide["kind"]))
            self._fill_preprocessors(guide)
            self.strength.setValue(guide["strength"])
            self.start.setValue(guide["start"])
            self.end.setValue(guide["end"])
        elif role == REGION:
            self.prompt.setText(guide["prompt"])
        elif role == REFERENCE:
            self.weight.setValue(guide["weight"])
        del blockers

    def _limit_kinds(self, preprocess: bool) -> None:
        """Grey the kinds whose preprocessor needs a network model that is not
        here, with the reason; a layer that already is the control image
        (preprocessing off) can be of any kind."""
        items = self.kind.model()
        for i in range(self.kind.count()):
            name = self.kind.itemData(i)
            reason = unavailable_reason(KINDS[name].preprocessor) if preprocess else None
            items.item(i).setEnabled(reason is None)
            self.kind.setItemData(i, reason or "", Qt.ItemDataRole.ToolTipRole)

    def _fill_preprocessors(self, guide: dict) -> None:
        """The preprocessors of the guide's kind, unavailable ones greyed with
        the reason; shown only when there is a choice to make."""
        self.preprocessor.clear()
        choices = available_preprocessors(guide["kind"]) if guide["kind"] in KINDS else []
        for i, choice in enumerate(choices):
            self.preprocessor.addItem(choice.label, "" if i == 0 else choice.name)
            self.preprocessor.model().item(i).setEnabled(choice.reason is None)
            self.preprocessor.setItemData(i, choice.reason or "", Qt.ItemDataRole.ToolTipRole)
        self.preprocessor.setCurrentIndex(max(0, self.preprocessor.findData(
            guide["preprocessor"])))
        form = self.control_box.layout()
        form.setRowVisible(self._preprocessor_row, guide["preprocess"] and len(choices) > 1)

    def _reason(self, guide: dict) -> str | None:
        """Why the guide's preprocessor cannot run here (None when it can)."""
        from artstudio.control.preprocessors import resolve

        try:
            _kind, name = resolve(guide["kind"], guide["preprocessor"])
        except UserFacingError as error:
            return str(error)
        return unavailable_reason(name)

    def _set_guide(self, guide: dict | None) -> None:
        layer = self._layer()
        if layer is None:
            return
        try:
            self.doc.set_layer_guide(self.doc.index_of(layer), guide)
            self.message.setText("")
        except GuideError as error:
            self.message.setText(f"Not changed: {error}.")
            self.show_layer()

    def _role_chosen(self, _index: int) -> None:
        role = self.role.currentData()
        layer = self._layer()
        if layer is None or (layer.guide or {}).get("role") == role:
            return
        if role == CONTROL:
            # Preprocessing needs a network for some kinds: start from one that runs here.
            kind = next(name for name, spec in KINDS.items()
                        if unavailable_reason(spec.preprocessor) is None)
            self._set_guide(new_guide(CONTROL, kind=kind))
        else:
            self._set_guide(None if role is None else new_guide(role))

    def _change(self, **settings) -> None:
        layer = self._layer()
        if layer is None or layer.guide is None:
            return
        changed = {**layer.guide, **settings}
        if changed["role"] == CONTROL and changed.get("preprocess") and (
                "preprocess" in settings or "preprocessor" in settings):
            reason = self._reason(changed)
            if reason:
                self.message.setText(reason)
                self.show_layer()
                return
        self._set_guide(changed)

    def show_control_image(self) -> None:
        """Make the control image on a worker when there is a runner (a network
        preprocessor takes seconds), then add it as the new control layer."""
        layer = self._layer()
        if layer is None:
            return
        frame = self.doc.frame.intersect(self.doc.rect)
        try:
            control = from_document.control_of(layer, frame)
        except UserFacingError as error:
            self.message.setText(str(error))
            return
        doc, uid = self.doc, layer.uid

        def add(rgb) -> None:
            try:
                from_document.add_control_image(doc, uid, frame, rgb)
                self.message.setText("")
            except ValueError:  # the layer was deleted while its image was made
                self.message.setText("The layer was removed before its control image was ready.")

        if self.runner is None:
            try:
                add(from_document.control_image(control))
            except UserFacingError as error:
                self.message.setText(str(error))
            return
        self.message.setText("Making the control image…")
        self.runner.run(_control_image_job, control, title="Control image",
                        on_done=add, on_failed=self.message.setText)


def _control_image_job(control, _progress, _cancel):
    return from_document.control_image(control)


class GuideNote(QLabel):
    """The Generate panel's line under the prompt: the guide layers the
    chosen model's family cannot use, which are left out of the request."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("guideNote")
        self.setWordWrap(True)
        self.doc: Document | None = None
        self.family: tuple[str, str] | None = None  # (name, label) of the model's family
        self.hide()

    def set_document(self, doc: Document | None) -> None:
        if self.doc is not None:
            self.doc.events.layers_changed.disconnect(self.refresh)
        self.doc = doc
        if doc is not None:
            doc.events.layers_changed.connect(self.refresh)
        self.refresh()

    def set_family(self, name: str, label: str) -> None:
        self.family = (name, label)
        self.refresh()

    def refresh(self) -> None:
        lines = (from_document.unsupported(*self.family, from_document.roles_in(self.doc))
                 if self.family and self.doc is not None else [])
        self.setText("\n".join(lines))
        self.setVisible(bool(lines))

    def request_fields(self, doc: Document, rect) -> dict:
        """The request's controls, regions and references from the guide
        layers, for a picture covering `rect`; RequestRefused names a guide
        layer that cannot be used."""
        try:
            guides = from_document.guides_of(doc, rect)
        except UserFacingError as error:
            raise RequestRefused(str(error)) from error
        if self.family:
            guides, _lines = from_document.for_family(guides, *self.family)
        return {"controls": guides.controls, "regions": guides.regions,
                "references": guides.references}
