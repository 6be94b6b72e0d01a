"""The Style panel: restyle the active layer, the generation frame or the
visible image after a built-in style, any painting, or a CycleGAN painter.

The gallery shows each built-in style rendered once on a sample picture
(cached in the data folder). Results arrive as a preview; Apply makes a new
layer. "Batch a folder…" opens the folder batch dialog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from artstudio.document import Document, Rect
from artstudio.document.result_layers import (
    STYLE_MODE,
    add_layer_above,
    contributing_uids,
    styled_stack,
)
from artstudio.document.staleness import DocumentMark
from artstudio.engine import JobHandle, JobKind, JobState, Lane, RequestRefused
from artstudio.settings import Settings
from artstudio.ui.images import pil_to_pixmap
from artstudio.ui.job_runner import JobRunner
from artstudio.ui.result_preview import CanvasPreview
from artstudio.ui.style_chooser import StyleChooser, gallery_folder, thumbnail_path

log = logging.getLogger(__name__)

SOURCES = (("layer", "Active layer"), ("frame", "Generation frame"), ("visible", "Visible image"))


def sample_picture(size: int = 128) -> np.ndarray:
    """A small landscape-like picture (sky, sun, hills) that shows what a style does."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    rgb = np.empty((size, size, 3), np.float32)
    rgb[..., 0] = 110 + 120 * yy
    rgb[..., 1] = 160 + 60 * yy
    rgb[..., 2] = 235 - 80 * yy
    sun = (xx - 0.72) ** 2 + (yy - 0.28) ** 2 < 0.012
    rgb[sun] = (250, 220, 120)
    hill = yy > 0.62 + 0.12 * np.sin(xx * 7)
    rgb[hill] = np.stack([40 + 60 * yy[hill], 110 + 50 * xx[hill], 50 + 0 * xx[hill]], -1)
    rgba = np.dstack([rgb, np.full((size, size), 255, np.float32)])
    return rgba.astype(np.uint8)


def _gallery_job(folder: Path, progress, cancel) -> list[Path]:
    """Render (or reuse) one thumbnail per built-in style."""
    from artstudio.style.builtin_styles import BUILTIN_STYLES
    from artstudio.style.transfer import StyleOptions, stylize

    folder.mkdir(parents=True, exist_ok=True)
    sample = sample_picture()
    out = []
    for i, name in enumerate(BUILTIN_STYLES):
        path = thumbnail_path(i)
        if not path.exists():
            image = stylize(sample, StyleOptions.builtin(i))
            tmp = path.with_suffix(".tmp.png")
            Image.fromarray(image).save(tmp)
            tmp.replace(path)
        out.append(path)
        progress(i + 1, len(BUILTIN_STYLES), name)
    return out


@dataclass(frozen=True)
class StyledResult:
    """A restyle waiting for Apply, and what it was made from."""

    pixels: np.ndarray
    rect: Rect
    source: str  # the source's name: the layer's, "Frame" or "Image"
    style: str  # style_label's
    made_for: DocumentMark
    layer_uid: int | None  # the restyled layer; None for the frame or the visible image
    made_from: tuple[int, ...]  # the layers flattened into a frame or image source

    @property
    def name(self) -> str:
        return f"{self.source} ({self.style})"


class StylePanel(QWidget):
    def __init__(self, settings: Settings, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings
        self.runner = runner
        self.doc: Document | None = None
        self._job: JobHandle | None = None
        self._result: StyledResult | None = None
        self.canvas_preview: CanvasPreview | None = None  # the canvas's, once attached

        self.chooser = StyleChooser()
        self.source = QComboBox()
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.chooser.form.insertRow(2, "Apply to", self.source)

        self.stylize_button = QPushButton("Stylize")
        self.stylize_button.setObjectName("stylizeButton")
        self.stylize_button.clicked.connect(self.stylize)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self._job and self._job.cancel())
        batch = QPushButton("Batch a folder…")
        batch.clicked.connect(self.open_batch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.stylize_button, 1)
        buttons.addWidget(self.cancel_button)
        self.preview = QLabel("")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.apply_button = QPushButton("Apply as layer")
        self.apply_button.clicked.connect(self.apply_result)
        self.discard_button = QPushButton("Discard")
        self.discard_button.clicked.connect(self.discard_result)
        self.show_button = QPushButton("Show on canvas")
        self.show_button.setToolTip("Show the result over the layers again (Esc hides it)")
        self.show_button.clicked.connect(self.preview_result)
        result_row = QHBoxLayout()
        result_row.addWidget(self.apply_button)
        result_row.addWidget(self.discard_button)
        result_row.addWidget(self.show_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.chooser, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.preview)
        layout.addLayout(result_row)
        layout.addWidget(batch)
        self._show_result_buttons(False)
        self._gallery_started = False
        runner.bridge.job_finished.connect(self._job_ended)

    # ---- binding ---------------------------------------------------------
    def set_document(self, doc: Document | None) -> None:
        self.doc = doc
        self.stylize_button.setEnabled(doc is not None)

    def showEvent(self, event) -> None:  # the gallery renders only once it is seen
        super().showEvent(event)
        if not self._gallery_started:
            self._gallery_started = True
            if not self.chooser.show_thumbnails():
                self.load_gallery()

    def load_gallery(self) -> JobHandle:
        return self.runner.run(_gallery_job, gallery_folder(), title="Style gallery thumbnails",
                               kind=JobKind.INTERNAL, lane=Lane.POOL,
                               on_done=lambda _files: self.chooser.show_thumbnails(),
                               on_failed=lambda m: self.status.setText(f"Gallery: {m}"))

    # ---- running -----------------------------------------------------------
    def options(self):
        return self.chooser.options(self.settings.device)

    def _source_pixels(self) -> tuple[np.ndarray, Rect, str, int | None]:
        """Pixels to stylize, where they sit, the source's name and the
        restyled layer's uid (None for a flattened source); RequestRefused
        when the source has none."""
        doc = self.doc
        source = self.source.currentData()
        if source == "layer":
            layer = doc.active_layer
            if layer is None:
                raise RequestRefused("There is no active layer")
            return layer.pixels.copy(), layer.bounds, layer.name, layer.uid
        if source == "frame":
            frame = doc.frame.intersect(doc.rect)
            return doc.composite(frame), frame, "Frame", None
        return doc.composite().copy(), doc.rect, "Image", None

    def stylize(self) -> JobHandle | None:
        from artstudio.style.transfer import StyleLayerJob, lane_for, run_style_job

        if self.doc is None:
            return None
        from artstudio.style.naming import style_label

        try:
            options = self.options()
            pixels, rect, source, layer_uid = self._source_pixels()
        except (ValueError, RequestRefused) as exc:
            self.status.setText(str(exc))
            return None
        if not pixels[..., 3].any():
            self.status.setText("Nothing to stylize there: the pixels are all transparent")
            return None
        lane = lane_for(options)
        made_from = () if layer_uid is not None else contributing_uids(self.doc, rect)
        pending = StyledResult(pixels=np.empty((0, 0, 4), np.uint8), rect=rect, source=source,
                               style=style_label(options), made_for=DocumentMark.of(self.doc),
                               layer_uid=layer_uid, made_from=made_from)
        self.status.setText(f"Stylizing: {options.describe()}")
        self.cancel_button.setEnabled(True)
        self._job = self.runner.run(
            run_style_job, StyleLayerJob(pixels, options), title=f"Style: {options.describe()}",
            kind=JobKind.STYLE, lane=lane,
            on_done=lambda result: self._finished(result, pending),
            on_failed=self._failed)
        return self._job

    def _job_ended(self, event) -> None:
        if self._job is not None and event.job_id == self._job.id:
            self.cancel_button.setEnabled(False)
            if event.state is JobState.CANCELLED:
                self.status.setText("Cancelled")
            self._job = None

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _finished(self, result: np.ndarray, pending: StyledResult) -> None:
        self._result = replace(pending, pixels=result)
        self.preview.setPixmap(pil_to_pixmap(result, 200))
        self.status.setText("Apply the result as a new layer, or discard it")
        self._show_result_buttons(True)
        self.preview_result()

    def _show_result_buttons(self, visible: bool) -> None:
        self.apply_button.setVisible(visible)
        self.discard_button.setVisible(visible)
        self.show_button.setVisible(visible)

    # ---- the result on the canvas --------------------------------------------
    def attach_preview(self, preview: CanvasPreview) -> None:
        """Show results in `preview` (the canvas's), as the Generate tray does."""
        self.canvas_preview = preview

    def preview_result(self) -> None:
        """The result over the layers where it was made from, as a preview the
        document does not hold (Apply makes it a layer)."""
        if self.canvas_preview is None or self._result is None:
            return
        result = self._result
        if not result.made_for.is_open(self.doc):
            return  # it would show over another document
        self.canvas_preview.show(result.pixels, result.rect, owner=self,
                                 caption=f"Style result: {result.name}",
                                 actions={"apply": self.apply_result,
                                          "discard": self.discard_result})

    def apply_result(self):
        """The restyle as a new layer named after its style, above its source
        and the restyles already on it (or above the layers flattened into
        it), so it shows."""
        result, doc = self._result, self.doc
        if result is None or doc is None:
            return None
        if not result.made_for.is_open(doc):
            self.status.setText("This result was made for another document; it fits only there")
            return None
        made_from = result.made_from
        if result.layer_uid is not None:
            try:
                made_from = styled_stack(doc, result.layer_uid)
            except ValueError:  # the source layer was deleted since
                made_from = ()
        params = {"mode": STYLE_MODE, "style": result.style, "source": result.source}
        layer = add_layer_above(doc, result.pixels, params, result.rect, made_from,
                                name=result.name, label="Apply style")
        self.discard_result()
        self.status.setText(f"Applied as layer “{layer.name}”")
        return layer

    def discard_result(self) -> None:
        self._result = None
        self.preview.clear()
        if self.canvas_preview is not None:
            self.canvas_preview.release(self)
        self._show_result_buttons(False)

    def open_batch(self) -> None:
        from artstudio.ui.batch_dialog import StyleBatchDialog

        dialog = StyleBatchDialog(self.runner, self, ray_address=self.settings.ray_address,
                                  settings=self.settings)
        dialog.chooser.set_choice(self.chooser.choice())  # start from the panel's style
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
