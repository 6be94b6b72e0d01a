"""Upscaling an open document: the whole image, or one region into a new layer.

Image > Upscale applies to the whole document (every layer, the mask and the
frame, as one undo step), to the active layer, or to the generation frame;
the last two arrive as a new layer centred on what they came from (layers may
reach past the canvas, so nothing is cut off).

Each job has the engine's three phases: a frozen snapshot taken on the GUI
thread (`DocumentUpscale.of`, `region_to_upscale`), a worker function
(`run_document_upscale`, `run_region_upscale`), and a function that applies
the result to the document (`apply_document_upscale`, `add_upscaled_layer`).
Whether the document is still the one (and unchanged) is the caller's
question: `artstudio.document.staleness`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from artstudio.document import Document, Layer, Rect
from artstudio.engine import Lane, RequestRefused
from artstudio.upscale.upscaling import UpscaleOptions, upscale

REGION_TARGETS = ("layer", "frame")


def lane_for(options: UpscaleOptions) -> Lane:
    """A model runs on the accelerator lane; plain Lanczos resampling on the pool."""
    return Lane.ACCELERATOR if options.model else Lane.POOL


# ---- the whole image ---------------------------------------------------------------

@dataclass(frozen=True)
class DocumentUpscale:
    """A snapshot for the worker: copies of the layers and where they land."""

    layers: tuple[tuple[int, np.ndarray, Rect], ...]  # (uid, pixels, target rect)
    options: UpscaleOptions
    width: int  # the upscaled canvas
    height: int

    @classmethod
    def of(cls, doc: Document, options: UpscaleOptions) -> DocumentUpscale:
        width = max(1, round(doc.width * options.scale))
        height = max(1, round(doc.height * options.scale))
        rects = doc.scaled_layer_rects(width, height)
        layers = tuple((layer.uid, layer.pixels.copy(), rects[layer.uid])
                       for layer in doc.layers)
        return cls(layers, options, width, height)


def run_document_upscale(params: DocumentUpscale, progress, cancel) -> dict[int, np.ndarray]:
    """Every layer through the upscaler, by uid, at the size its rect says."""
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


def apply_document_upscale(doc: Document, params: DocumentUpscale,
                           scaled: dict[int, np.ndarray]) -> None:
    """Resize the document to the upscaled size with the layers the job made
    (one undo step). Only sound on the document the snapshot came from, unchanged."""
    doc.resize_image(params.width, params.height, scaled=scaled, label="Upscale image")


# ---- a region into a new layer -------------------------------------------------------

@dataclass(frozen=True)
class RegionUpscale:
    """Pixels to upscale, where they sit on the canvas, and the properties
    the new layer gets."""

    pixels: np.ndarray
    rect: Rect
    options: UpscaleOptions
    layer_props: dict[str, Any] = field(default_factory=dict)  # name, opacity, blend

    @property
    def name(self) -> str:
        return self.layer_props["name"]


def region_to_upscale(doc: Document, target: str, options: UpscaleOptions) -> RegionUpscale:
    """The snapshot for `target` ("layer" or "frame"); RequestRefused says why
    there is nothing to upscale. A layer gives only its painted part, and its
    opacity and blend mode carry over."""
    if target == "layer":
        layer = doc.active_layer
        if layer is None:
            raise RequestRefused("There is no active layer")
        alpha = layer.pixels[..., 3]
        ys, xs = np.nonzero(alpha)
        if not len(ys):
            raise RequestRefused(f"{layer.name} is empty: nothing to upscale")
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        return RegionUpscale(layer.pixels[y0:y1, x0:x1].copy(),
                             Rect(layer.x + x0, layer.y + y0, x1 - x0, y1 - y0), options,
                             {"name": f"{layer.name} (upscaled)", "opacity": layer.opacity,
                              "blend": layer.blend})
    if target != "frame":
        raise ValueError(f"unknown upscale target {target!r}; one of {REGION_TARGETS}")
    frame = doc.frame.intersect(doc.rect)
    if frame.w < 1 or frame.h < 1:
        raise RequestRefused("The frame lies outside the canvas")
    return RegionUpscale(doc.composite(frame).copy(), frame, options,
                         {"name": "Frame (upscaled)"})


def run_region_upscale(params: RegionUpscale, progress, cancel) -> np.ndarray:
    return upscale(params.pixels, params.options, progress, cancel)


def add_upscaled_layer(doc: Document, region: RegionUpscale, big: np.ndarray) -> Layer:
    """The upscaled pixels as a new layer centred on the region they came
    from (one undo step)."""
    h, w = big.shape[:2]
    x = region.rect.x + (region.rect.w - w) // 2
    y = region.rect.y + (region.rect.h - h) // 2
    return doc.add_layer(big, x=x, y=y, label="Upscale into new layer", **region.layer_props)
