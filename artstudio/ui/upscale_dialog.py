"""Image > Upscale and Image > Upscale a Folder.

Upscale applies to the whole document (every layer, the mask and the frame,
as one undo step), to the active layer, or to the generation frame; the last
two arrive as a new layer centred on what they came from (layers may reach
past the canvas, so nothing is cut off). The work runs on a worker from
copies, and a result is applied only if the document did not change
meanwhile (otherwise strokes made during the run would be lost).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PySide6.QtWidgets import QComboBox, QDialog, QVBoxLayout, QWidget

from artstudio.document import Document, Rect
from artstudio.engine import JobHandle, JobKind, Lane
from artstudio.ui.batch_dialog import FolderBatchDialog
from artstudio.ui.dialogs import ok_cancel
from artstudio.ui.upscale_chooser import UpscaleChooser
from artstudio.upscale.upscaling import UpscaleOptions, upscale_processor

TARGETS = (("image", "The whole image (all layers, mask and frame)"),
           ("layer", "The active layer, into a new layer"),
           ("frame", "The generation frame, into a new layer"))


@dataclass(frozen=True)
class DocumentUpscale:
    """A snapshot for the worker: copies of the layers and where they land."""

    layers: tuple[tuple[int, np.ndarray, Rect], ...]  # (uid, pixels, target rect)
    options: UpscaleOptions


def _lane(options: UpscaleOptions) -> Lane:
    return Lane.ACCELERATOR if options.model else Lane.POOL


def run_document_upscale(params: DocumentUpscale, progress, cancel) -> dict[int, np.ndarray]:
    from PIL import Image

    from artstudio.upscale.upscaling import upscale

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


def run_region_upscale(params: tuple[np.ndarray, UpscaleOptions], progress,
                       cancel) -> np.ndarray:
    from artstudio.upscale.upscaling import upscale

    pixels, options = params
    return upscale(pixels, options, progress, cancel)


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

    return window.runner.run(run_document_upscale, snapshot, title=f"Upscale to {width}x{height}",
                             kind=JobKind.UPSCALE, lane=_lane(options), on_done=apply,
                             on_failed=lambda message: window.show_note(message))


def region_to_upscale(doc: Document, target: str) -> tuple[np.ndarray, Rect, dict] | str:
    """Pixels, where they sit on the canvas, and the new layer's properties;
    or why there is nothing to upscale. A layer gives only its painted part,
    and its opacity and blend mode carry over."""
    if target == "layer":
        layer = doc.active_layer
        if layer is None:
            return "There is no active layer"
        alpha = layer.pixels[..., 3]
        ys, xs = np.nonzero(alpha)
        if not len(ys):
            return f"{layer.name} is empty: nothing to upscale"
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        return (layer.pixels[y0:y1, x0:x1].copy(),
                Rect(layer.x + x0, layer.y + y0, x1 - x0, y1 - y0),
                {"name": f"{layer.name} (upscaled)", "opacity": layer.opacity,
                 "blend": layer.blend})
    frame = doc.frame.intersect(doc.rect)
    if frame.w < 1 or frame.h < 1:
        return "The frame lies outside the canvas"
    return doc.composite(frame).copy(), frame, {"name": "Frame (upscaled)"}


def upscale_region(window, doc: Document, target: str, options: UpscaleOptions
                   ) -> JobHandle | None:
    """Upscale the active layer or the frame into a new layer, centred on it."""
    region = region_to_upscale(doc, target)
    if isinstance(region, str):
        window.show_note(region)
        return None
    pixels, rect, props = region
    name = props["name"]

    def apply(big: np.ndarray) -> None:
        if window.doc is not doc:
            window.show_note("The document was closed while upscaling")
            return
        h, w = big.shape[:2]
        x = rect.x + (rect.w - w) // 2
        y = rect.y + (rect.h - h) // 2
        doc.add_layer(big, x=x, y=y, label="Upscale into new layer", **props)
        window.show_note(f"{name}: {w}x{h}")

    return window.runner.run(run_region_upscale, (pixels, options),
                             title=f"Upscale {name.removesuffix(' (upscaled)')}",
                             kind=JobKind.UPSCALE, lane=_lane(options), on_done=apply,
                             on_failed=lambda message: window.show_note(message))


class UpscaleBatchDialog(FolderBatchDialog):
    """Upscale a folder, with the same batch machinery as styling one."""

    window_title = "Upscale a folder"
    verb = "Upscale"
    # A large upscale can take minutes: cancelling stops it at the next tile.
    cancel_note = "Stopping: the image in progress is dropped; finished images stay."

    def __init__(self, engine, parent: QWidget | None = None, device: str = "auto"):
        self._device = device
        super().__init__(engine, parent)

    def _make_chooser(self) -> QWidget:
        return UpscaleChooser(device=self._device)

    def _make_processor_factory(self, options: UpscaleOptions):
        return functools.partial(upscale_processor, options)

    def _lane(self, options: UpscaleOptions) -> Lane:
        return _lane(options)
