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

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from artstudio.document import Document, Layer, Rect, Signal
from artstudio.document.staleness import DocumentMark
from artstudio.engine import RequestRefused

OTHER_DOCUMENT = "This result was made for another document; it fits only there"


@dataclass(frozen=True)
class ResultTarget:
    """Where a job's results belong, fixed when the job was queued."""

    mode: str  # the Generate panel's mode: txt2img, img2img, inpaint, outpaint, erase
    frame: Rect  # where a result goes on the canvas
    origin: DocumentMark  # the document it was made for
    outpaint: tuple[int, int, int, int] | None = None  # pixels added left, top, right, bottom


@dataclass(frozen=True)
class Candidate:
    """One result waiting in the tray."""

    image: Image.Image
    params: dict[str, Any]  # what the layer remembers (metadata.png_info's dict)
    target: ResultTarget
    seed: int | None = None

    @property
    def mode(self) -> str:
        return self.target.mode

    @property
    def frame(self) -> Rect:
        return self.target.frame

    @property
    def label(self) -> str:
        return f"seed {self.seed}" if self.seed is not None else self.mode

    @property
    def description(self) -> str:
        return str(self.params.get("prompt", self.mode))


def generated_candidates(result, target: ResultTarget) -> list[Candidate]:
    """One candidate per image of a generation result (diffusion.generate's)."""
    return [Candidate(image, dict(info.metadata), target, info.seed)
            for image, info in zip(result.images, result.infos, strict=True)]


def erased_candidate(image: Image.Image, method: str, target: ResultTarget) -> Candidate:
    return Candidate(image, {"mode": "erase", "method": method}, target)


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


def _resized(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    if image.size != size:  # a model may round sizes to its multiple of 8
        image = image.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image).copy()


def apply_candidate(doc: Document, candidate: Candidate) -> Layer:
    """The result as a new layer at the frame it was made for; an outpainting
    grows the canvas first (one undo step). RequestRefused when `doc` is not
    the document the result was made for."""
    target = candidate.target
    if not target.origin.is_open(doc):
        raise RequestRefused(OTHER_DOCUMENT)
    image = candidate.image.convert("RGBA")
    if target.outpaint:
        size, anchor = outpainted_canvas(doc.size, target.outpaint)
        with doc.edit("Outpaint"):
            doc.resize_canvas(*size, anchor)
            return doc.add_generated_layer(_resized(image, size), candidate.params, x=0, y=0)
    frame = target.frame
    return doc.add_generated_layer(_resized(image, (frame.w, frame.h)), candidate.params,
                                   x=frame.x, y=frame.y)


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

    def apply(self, doc: Document) -> Layer | None:
        """The selected result as a new layer of `doc` (it stays in the tray,
        so it can be applied again); None when nothing is selected."""
        candidate = self.current
        return None if candidate is None else apply_candidate(doc, candidate)
