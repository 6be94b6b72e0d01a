"""The staging tray: generation results waiting for the artist.

Results land here first, as a preview the artist applies as a layer,
discards, or reruns (Krita AI Diffusion's habit). `ResultTray` is the model;
the Generate panel's list only shows it, subscribing to its plain-callback
events as views subscribe to a Document's.

Each result keeps the `ResultTarget` its job was queued with: several jobs can
wait at once, each for its own frame and document, so a result goes where
it was asked for, and only into the document it was made for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from artstudio.diffusion.masking import repainted_layer, to_mask_array
from artstudio.document import Document, Layer, Rect, Signal
from artstudio.document.result_layers import Placement, add_layer_above, fitted, place_in_frame
from artstudio.document.staleness import DocumentMark
from artstudio.engine import RequestRefused
from artstudio.erase import erased_area

# Results made from a region of their document fit only there; a picture made
# from a prompt alone fits any document.
REGION_MODES = ("img2img", "inpaint", "outpaint", "erase")
OTHER_DOCUMENT = ("This result was made from a region of another document and fits only "
                  "there; text-to-image results can go into any document")


@dataclass(frozen=True)
class ResultTarget:
    """Where a job's results belong, fixed when the job was queued."""

    mode: str  # the Generate panel's mode: txt2img, img2img, inpaint, outpaint, erase
    frame: Rect  # where a result goes on the canvas
    origin: DocumentMark  # the document it was made for
    outpaint: tuple[int, int, int, int] | None = None  # pixels added left, top, right, bottom
    made_from: tuple[int, ...] = ()  # uids of the layers flattened into the job's picture
    fill_frame: bool = True  # made at the frame's size: it covers the frame


@dataclass(frozen=True)
class Candidate:
    """One result waiting in the tray."""

    image: Image.Image
    params: dict[str, Any]  # what the layer remembers (metadata.png_info's dict)
    target: ResultTarget
    seed: int | None = None
    # Only what was repainted, RGBA the size of `image` with the mask as alpha
    # (inpainting, outpainting, erasing); None: the whole image is the result.
    repaint: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def mode(self) -> str:
        return self.target.mode

    @property
    def frame(self) -> Rect:
        return self.target.frame

    @property
    def label(self) -> str:
        label = f"seed {self.seed}" if self.seed is not None else self.mode
        if "clip_score" in self.params:  # ranked by CLIP (assists.best_of)
            label += f" · {self.params['clip_score']:.1f}"
        return label

    @property
    def description(self) -> str:
        return str(self.params.get("prompt", self.mode))


def generated_candidates(result, target: ResultTarget) -> list[Candidate]:
    """One candidate per image of a generation result (diffusion.generate's)."""
    repaints = result.repaints or [None] * len(result.images)
    return [Candidate(image, dict(info.metadata), target, info.seed, repaint)
            for image, info, repaint in zip(result.images, result.infos, repaints, strict=True)]


def erased_candidate(image: Image.Image, method: str, target: ResultTarget,
                     mask: Any = None) -> Candidate:
    """An erase result; with the `mask` it was made with, it applies as the
    erased pixels alone."""
    repaint = None
    if mask is not None:
        rgb = np.asarray(image.convert("RGB"))
        area = erased_area(to_mask_array(mask, image.size)).astype(np.float32)
        repaint = repainted_layer(rgb, area)
    return Candidate(image, {"mode": "erase", "method": method}, target, repaint=repaint)


def outpainted_canvas(size: tuple[int, int], outpaint: tuple[int, int, int, int]
                      ) -> tuple[tuple[int, int], tuple[float, float]]:
    """The canvas size after adding `outpaint` pixels (left, top, right,
    bottom), and the anchor (0..1 per axis) that keeps the old canvas where
    the added margins say, for `Document.resize_canvas`."""
    left, top, right, bottom = outpaint
    width, height = size
    anchor = (left / (left + right) if left + right else 0.5,
              top / (top + bottom) if top + bottom else 0.5)
    return (width + left + right, height + top + bottom), anchor


@dataclass(frozen=True)
class Applied:
    """A result applied: its new layer, and what the artist should be told
    about where it went (empty when it simply covers its frame)."""

    layer: Layer
    note: str = ""


def _pixels(candidate: Candidate) -> np.ndarray:
    if candidate.repaint is not None:
        return candidate.repaint
    return np.asarray(candidate.image.convert("RGBA"))


def apply_candidate(doc: Document, candidate: Candidate) -> Applied:
    """The result as a new layer (one undo step). A result made from the
    picture goes at the region it was made from, above the layers flattened
    into it, holding only what was repainted where it knows that; an
    outpainting grows the canvas first. A text-to-image picture goes above
    the active layer at the frame, keeping its aspect ratio. RequestRefused
    when a region's result is applied to another document than its own."""
    target = candidate.target
    own = target.origin.is_open(doc)
    if target.mode in REGION_MODES and not own:
        raise RequestRefused(OTHER_DOCUMENT)
    if target.outpaint:
        size, anchor = outpainted_canvas(doc.size, target.outpaint)
        with doc.edit("Outpaint"):
            doc.resize_canvas(*size, anchor)
            layer = add_layer_above(doc, fitted(_pixels(candidate), size), candidate.params,
                                    Rect(0, 0, *size), target.made_from)
        return Applied(layer)
    placed = placement(doc, candidate)
    rect = placed.rect
    pixels = fitted(_pixels(candidate), (rect.w, rect.h))
    if target.mode in REGION_MODES:
        return Applied(add_layer_above(doc, pixels, candidate.params, rect, target.made_from))
    layer = doc.add_generated_layer(pixels, candidate.params, x=rect.x, y=rect.y)
    return Applied(layer, placed.note)


def placement(doc: Document, candidate: Candidate) -> Placement:
    """Where a result (not an outpainting) goes in `doc`, and what the artist
    is told about it: what Apply does and what the canvas preview shows."""
    target = candidate.target
    own = target.origin.is_open(doc)
    if target.mode in REGION_MODES:
        return Placement(target.frame, "")
    frame = target.frame if own else doc.frame.intersect(doc.rect)
    if frame.empty:
        frame = doc.rect
    return place_in_frame(candidate.image.size, frame, fill=own and target.fill_frame)


class ResultTray:
    """Candidates in arrival order and which one is selected (-1: none).

    Events (plain callbacks, on the thread that changed the tray):
    - added(index, candidate): a result arrived (it is then selected).
    - removed(index): a result was discarded.
    - selection_changed(index): another result, or none, is selected.
    """

    def __init__(self) -> None:
        self.candidates: list[Candidate] = []
        self.selected = -1
        self.added = Signal("added")
        self.removed = Signal("removed")
        self.selection_changed = Signal("selection_changed")

    def __len__(self) -> int:
        return len(self.candidates)

    @property
    def current(self) -> Candidate | None:
        return self.candidates[self.selected] if self.selected >= 0 else None

    def add(self, candidate: Candidate) -> int:
        """Add a result and select it, so the newest is what Apply takes."""
        self.candidates.append(candidate)
        index = len(self.candidates) - 1
        self.added.emit(index, candidate)
        self.select(index)
        return index

    def select(self, index: int) -> None:
        index = index if 0 <= index < len(self.candidates) else -1
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit(index)

    def step(self, delta: int) -> None:
        """Select the result `delta` places on, wrapping round (next/previous)."""
        count = len(self.candidates)
        if count:
            start = self.selected if self.selected >= 0 else (-1 if delta > 0 else 0)
            self.select((start + delta) % count)

    def discard(self) -> None:
        """Remove the selected result; the one after it (or else before) is
        selected next."""
        index = self.selected
        if index < 0:
            return
        self.candidates.pop(index)
        self.selected = -1
        self.removed.emit(index)
        self.select(min(index, len(self.candidates) - 1))

    def apply(self, doc: Document) -> Applied | None:
        """The selected result as a new layer of `doc` (it stays in the tray,
        so it can be applied again); None when nothing is selected."""
        candidate = self.current
        return None if candidate is None else apply_candidate(doc, candidate)
