"""Image > Upscale: the whole document (every layer, the mask and the frame)
through an upscaler model, or Lanczos. The layers are upscaled on a worker from
copies; the result is applied as one undo step, and only if the document did
not change meanwhile (otherwise strokes made during the run would be lost)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from artstudio.document import Document, Rect
from artstudio.engine import JobHandle, JobKind, Lane
from artstudio.generators.upscale import UpscaleOptions
from artstudio.ui.dialogs import ok_cancel


@dataclass(frozen=True)
class DocumentUpscale:
    """A snapshot for the worker: copies of the layers and where they land."""

    layers: tuple[tuple[int, np.ndarray, Rect], ...]  # (uid, pixels, target rect)
    options: UpscaleOptions


def run_document_upscale(params: DocumentUpscale, progress, cancel) -> dict[int, np.ndarray]:
    from PIL import Image

    from artstudio.generators.upscale import upscale

    out = {}
    for i, (uid, pixels, rect) in enumerate(params.layers):
        progress(i, len(params.layers), f"Layer {i + 1} of {len(params.layers)}")
        if not pixels[..., 3].any():  # an empty layer needs no model
            out[uid] = np.zeros((rect.h, rect.w, 4), np.uint8)
            continue
        big = upscale(pixels, params.options, None, cancel)
        if big.shape[:2] != (rect.h, rect.w):
            big = np.asarray(Image.fromarray(big, "RGBA").resize((rect.w, rect.h),
                                                                 Image.Resampling.LANCZOS))
        out[uid] = big
    progress(len(params.layers), len(params.layers), "Done")
    return out


class UpscaleDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, model: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Upscale image")
        self.model = QLineEdit(model)
        self.model.setPlaceholderText("Lanczos (no model)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(browse)
        self.scale = QDoubleSpinBox()
        self.scale.setRange(1.0, 8.0)
        self.scale.setSingleStep(0.5)
        self.scale.setValue(2.0)
        self.scale.setSuffix(" ×")
        form = QFormLayout(self)
        form.addRow("Upscaler model", row)
        form.addRow("Scale", self.scale)
        form.addRow(ok_cancel(self))

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Upscaler model", str(Path.home()),
                                              "Models (*.pth *.safetensors)")
        if name:
            self.model.setText(name)

    def options(self) -> UpscaleOptions:
        model = self.model.text().strip() or None
        return UpscaleOptions(model=model, scale=self.scale.value())


def upscale_document(window, doc: Document, options: UpscaleOptions) -> JobHandle:
    """Start the job; the result is applied to `doc` when it comes back."""
    width = max(1, round(doc.width * options.scale))
    height = max(1, round(doc.height * options.scale))
    rects = doc.scaled_layer_rects(width, height)
    snapshot = DocumentUpscale(
        tuple((layer.uid, layer.pixels.copy(), rects[layer.uid]) for layer in doc.layers),
        options)
    position = doc.history.position

    def apply(scaled: dict[int, np.ndarray]) -> None:
        if window.doc is not doc or doc.history.position != position:
            window.show_note("The document changed while upscaling; upscale it again")
            return
        doc.resize_image(width, height, scaled=scaled, label="Upscale image")
        window.show_note(f"Upscaled to {width}x{height}")

    lane = Lane.ACCELERATOR if options.model else Lane.POOL
    return window.runner.run(run_document_upscale, snapshot, title=f"Upscale to {width}x{height}",
                             kind=JobKind.UPSCALE, lane=lane, on_done=apply,
                             on_failed=lambda message: window.show_note(message))
