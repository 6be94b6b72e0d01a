"""One control of a generation request (a control layer, or a control image
on the command line) and its checks, made before any model loads."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from artstudio.engine.errors import UserFacingError

MAX_STRENGTH = 2.0  # A1111's ControlNet weight slider ends there


@dataclass(frozen=True)
class ControlSpec:
    kind: str  # a kinds.KINDS name
    image: Any  # the layer or file: a PIL image or an RGB(A) uint8 array (a copy)
    model: str = ""  # a ControlNet file or folder; "" picks one from the library by kind
    strength: float = 1.0  # how strongly it steers (ControlNet conditioning scale)
    start: float = 0.0  # the part of the steps it steers, as fractions of them
    end: float = 1.0
    preprocess: bool = True  # False: the image already is the control image
    # Set by apply.prepare: the image is the control image at the picture's size.
    prepared: bool = False
    note: str = ""  # what preparing changed ("scaled from 300x200 to 512x512")
    preprocessor: str = ""  # a preprocessors.PREPROCESSORS name of the kind; "" the kind's own


@dataclass(frozen=True)
class ReferenceSpec:
    """A reference image: "make it look like this" (IP-Adapter, FLUX Redux)."""

    image: Any  # the layer or file: a PIL image or an RGB(A) uint8 array (a copy)
    weight: float = 1.0  # how strongly the picture follows it (the adapter's scale)
    model: str = ""  # an adapter file or folder; "" picks one from the library by family
    note: str = ""  # what preparing changed
    encoder: str = ""  # its image encoder; "" finds one that fits the adapter (references.py)


def check_guidance(p) -> None:
    """The controls, regions and references of GenerationParams `p`."""
    from artstudio.control.regions import check_regions

    check_controls(p.controls, p.mode)
    check_regions(p.regions, p.mode)
    check_references(p.references)


def _check_scale(value: float, what: str) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= MAX_STRENGTH):
        raise UserFacingError(f"{what} must be between 0 and {MAX_STRENGTH:g}, not {value}.")


def check_references(references: Iterable[ReferenceSpec]) -> None:
    for i, reference in enumerate(references):
        what = f"Reference image {i}"
        if reference.image is None:
            raise UserFacingError(f"{what} has no image.")
        _check_scale(reference.weight, f"{what}: the weight")


def check_controls(controls: Iterable[ControlSpec], mode: str) -> None:
    from artstudio.control.kinds import kind
    from artstudio.control.preprocessors import resolve

    controls = tuple(controls)
    if controls and mode == "edit":
        raise UserFacingError("Control layers guide text-to-image, image-to-image and "
                              "inpainting, not instruction edits.")
    for i, control in enumerate(controls):
        kind(control.kind)
        resolve(control.kind, control.preprocessor)
        what = f"Control {i} ({control.kind})"
        if control.image is None:
            raise UserFacingError(f"{what} has no image.")
        _check_scale(control.strength, f"{what}: the strength")
        if not 0.0 <= control.start < control.end <= 1.0:
            raise UserFacingError(f"{what}: the steps it guides must start before they end, "
                                  f"within 0..1 (not {control.start}..{control.end}).")
