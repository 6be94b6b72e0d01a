"""Image > Upscale and Image > Upscale a Folder.

The dialogs gather choices; the jobs, their snapshots and how a result is
applied are the core's (`artstudio.upscale.document_upscale`). A whole-image
result is applied only if the document did not change meanwhile (otherwise
strokes made during the run would be lost); a region lands as a new layer as
long as its document is open.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QComboBox, QDialog, QVBoxLayout, QWidget

from artstudio.document import Document
from artstudio.document.staleness import DocumentMark
from artstudio.engine import JobHandle, JobKind, Lane, RequestRefused
from artstudio.ui.batch_dialog import FolderBatchDialog
from artstudio.ui.dialogs import ok_cancel
from artstudio.ui.job_runner import JobRunner
from artstudio.ui.upscale_chooser import UpscaleChooser
from artstudio.upscale.builtin import BUILTIN
from artstudio.upscale.document_upscale import (
    DocumentUpscale,
    add_upscaled_layer,
    apply_document_upscale,
    lane_for,
    region_to_upscale,
    run_document_upscale,
    run_region_upscale,
)
from artstudio.upscale.upscaling import UpscaleOptions, upscale_processor

TARGETS = (("image", "The whole image (all layers, mask and frame)"),
           ("layer", "The active layer, into a new layer"),
           ("frame", "The generation frame, into a new layer"))


class UpscaleDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, device: str = "auto"):
        super().__init__(parent)
        self.setWindowTitle("Upscale")
        self.target = QComboBox()
        for key, label in TARGETS:
            self.target.addItem(label, key)
        self.chooser = UpscaleChooser(device=device)
        self.chooser.form.insertRow(0, "Upscale", self.target)
        layout = QVBoxLayout(self)
        layout.addWidget(self.chooser)
        layout.addWidget(ok_cancel(self))

    def options(self) -> UpscaleOptions:
        return self.chooser.options()

    def target_key(self) -> str:
        return self.target.currentData()


def upscale_document(window, doc: Document, options: UpscaleOptions) -> JobHandle:
    """Start the job; the result is applied to `doc` when it comes back."""
    snapshot = DocumentUpscale.of(doc, options)
    mark = DocumentMark.of(doc)
    size = f"{snapshot.width}x{snapshot.height}"

    def apply(scaled: dict[int, np.ndarray]) -> None:
        if not mark.unchanged(window.doc):
            window.show_note("The document changed while upscaling; upscale it again")
            return
        apply_document_upscale(doc, snapshot, scaled)
        window.show_note(f"Upscaled to {size}")

    return window.runner.run(run_document_upscale, snapshot, title=f"Upscale to {size}",
                             kind=JobKind.UPSCALE, lane=lane_for(options), on_done=apply,
                             on_failed=window.show_note)


def upscale_region(window, doc: Document, target: str, options: UpscaleOptions
                   ) -> JobHandle | None:
    """Upscale the active layer or the frame into a new layer, centred on it."""
    try:
        region = region_to_upscale(doc, target, options)
    except RequestRefused as refusal:
        window.show_note(str(refusal))
        return None
    mark = DocumentMark.of(doc)

    def apply(big: np.ndarray) -> None:
        if not mark.is_open(window.doc):
            window.show_note("The document was closed while upscaling")
            return
        add_upscaled_layer(doc, region, big)
        h, w = big.shape[:2]
        window.show_note(f"{region.name}: {w}x{h}")

    return window.runner.run(run_region_upscale, region,
                             title=f"Upscale {region.name.removesuffix(' (upscaled)')}",
                             kind=JobKind.UPSCALE, lane=lane_for(options), on_done=apply,
                             on_failed=window.show_note)


class UpscaleBatchDialog(FolderBatchDialog):
    """Upscale a folder, with the same batch machinery as styling one."""

    window_title = "Upscale a folder"
    verb = "Upscale"
    kind = "upscale"
    # A large upscale can take minutes: cancelling stops it at the next tile.
    cancel_note = "Stopping: the image in progress is dropped; finished images stay."

    def __init__(self, runner: JobRunner, parent: QWidget | None = None, device: str = "auto",
                 ray_address: str = "", settings=None):
        self._device = device
        super().__init__(runner, parent, ray_address, settings)

    def _make_chooser(self) -> QWidget:
        return UpscaleChooser(device=self._device)

    def _make_processor_factory(self, options: UpscaleOptions):
        return functools.partial(upscale_processor, options)

    def _lane(self, options: UpscaleOptions) -> Lane:
        return lane_for(options)

    def _describe(self, options: UpscaleOptions) -> str:
        model = {None: "lanczos", BUILTIN: "builtin"}.get(options.model) \
            or Path(options.model).stem
        return f"upscale {model} x{options.scale:g}" if options.scale else f"upscale {model}"
