"""The live view: the newest live picture beside the canvas, at the frame's
aspect, optionally over the frame on the canvas; Apply keeps it as a layer
with its parameters, as a tray result applies (diffusion.results)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from artstudio.diffusion.results import Candidate, apply_candidate, generated_candidates
from artstudio.engine import RequestRefused
from artstudio.live.session import LiveResult
from artstudio.ui.images import pil_to_pixmap
from artstudio.ui.live_mode import LiveControls
from artstudio.ui.result_preview import CanvasPreview


class LiveView(QWidget):
    applied = Signal(object)  # the new Layer
    note = Signal(str)

    def __init__(self, controls: LiveControls, parent: QWidget | None = None):
        super().__init__(parent)
        self.controls = controls
        self.canvas_preview: CanvasPreview | None = None
        self._pixmap: QPixmap | None = None
        self.picture = QLabel("Turn on Live in the Generate panel and paint in the frame")
        self.picture.setObjectName("livePicture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setWordWrap(True)
        self.picture.setMinimumSize(160, 160)
        # The pixmap follows the label's size, so the label must not ask for the pixmap's.
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.status = QLabel("")
        self.status.setObjectName("liveStatus")
        self.status.setWordWrap(True)
        self.over_frame = QCheckBox("Show over the frame")
        self.over_frame.setToolTip("Show the live picture on the canvas, over the frame "
                                   "(a preview: nothing is added until Apply)")
        self.over_frame.toggled.connect(lambda _on: self._show_on_canvas())
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("liveApply")
        self.apply_button.setToolTip("Keep the live picture as a new layer at the frame")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        buttons = QHBoxLayout()
        buttons.addWidget(self.over_frame)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.picture, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        controls.result_ready.connect(self.show_result)
        controls.state_changed.connect(self.status.setText)
        controls.went_live.connect(self._went_live)

    def attach_preview(self, preview: CanvasPreview) -> None:
        self.canvas_preview = preview

    def candidate(self) -> Candidate | None:
        latest = self.controls.latest
        if latest is None:
            return None
        return generated_candidates(latest.result, latest.request.target)[0]

    def show_result(self, result: LiveResult) -> None:
        self._pixmap = pil_to_pixmap(result.result.images[0])
        self._fit()
        stats = self.controls.session.stats
        params = result.request.params
        self.status.setText(f"Seed {params.seed}, {params.steps} steps, strength "
                            f"{params.strength:.2f} · runs {stats.started}, cancelled "
                            f"{stats.cancelled}")
        self.apply_button.setEnabled(True)
        self._show_on_canvas()

    def apply(self):
        """The live picture as a new layer above what it was made from; the layer, or None."""
        candidate, doc = self.candidate(), self.controls.doc
        if candidate is None or doc is None:
            return None
        try:
            layer = apply_candidate(doc, candidate).layer
        except RequestRefused as refusal:
            self.status.setText(str(refusal))
            return None
        text = f"Live picture applied as layer “{layer.name}”"
        self.status.setText(text)
        self.note.emit(text)
        self.applied.emit(layer)
        return layer

    def _went_live(self, on: bool) -> None:
        if not on and self.canvas_preview is not None:
            self.canvas_preview.release(self)

    def _show_on_canvas(self) -> None:
        preview, candidate = self.canvas_preview, self.candidate()
        if preview is None:
            return
        if not self.over_frame.isChecked() or candidate is None or not self.controls.session.active:
            preview.release(self)
            return
        preview.show(candidate.image, candidate.frame, owner=self, caption="Live",
                     actions={"apply": self.apply})

    def _fit(self) -> None:
        if self._pixmap is not None:
            self.picture.setPixmap(self._pixmap.scaled(
                self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()
