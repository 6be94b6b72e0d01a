"""Raster layers and their blend modes.

Pixels are STRAIGHT (not premultiplied) RGBA uint8 arrays of shape (h, w, 4):
the layout PNG and OpenRaster store, so saving and loading are exact, and
colour under alpha 0 survives an eraser stroke that is undone. Compositing
premultiplies internally in float32.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from artstudio.document.geometry import Rect

_ids = itertools.count(1)


class BlendMode(StrEnum):
    """Layer blend modes, valued by their OpenRaster composite-op names."""

    NORMAL = "svg:src-over"
    MULTIPLY = "svg:multiply"
    SCREEN = "svg:screen"
    OVERLAY = "svg:overlay"
    DARKEN = "svg:darken"
    LIGHTEN = "svg:lighten"
    DIFFERENCE = "svg:difference"
    ADD = "svg:plus"

    @property
    def label(self) -> str:
        """A name for menus ("Multiply")."""
        return self.name.capitalize()

    @classmethod
    def from_ora(cls, value: str | None) -> BlendMode | None:
        """The mode for an OpenRaster composite-op, or None if we do not know it."""
        if not value:
            return cls.NORMAL
        try:
            return cls(value.strip())
        except ValueError:
            return None


def new_pixels(width: int, height: int) -> np.ndarray:
    """A transparent straight-RGBA buffer."""
    return np.zeros((height, width, 4), np.uint8)


def check_pixels(pixels: np.ndarray) -> np.ndarray:
    """Validate an RGBA uint8 (h, w, 4) array with h, w >= 1; returns it C-contiguous."""
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8:
        raise ValueError("layer pixels must be a uint8 numpy array")
    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(f"layer pixels must have shape (h, w, 4), got {pixels.shape}")
    return np.ascontiguousarray(pixels)


@dataclass(eq=False)
class Layer:
    """One raster layer. Change a layer in a document only through Document
    methods (so it is undoable); reading any attribute is always fine.

    `x`, `y` place the layer's top-left pixel in document coordinates; a layer
    may be smaller or larger than the canvas. `generation` holds the parameters
    of the job that made the layer (prompt, seed, ...), JSON-serialisable.
    `guide` makes it a control layer, a region or a reference for generating
    (`guides.py` says its shape), JSON-serialisable; None for plain paint.
    `uid` identifies the layer for its lifetime in this session (not saved).
    """

    pixels: np.ndarray
    name: str = "Layer"
    opacity: float = 1.0
    visible: bool = True
    x: int = 0
    y: int = 0
    blend: BlendMode = BlendMode.NORMAL
    lock_alpha: bool = False
    generation: dict[str, Any] | None = None
    guide: dict[str, Any] | None = None
    uid: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        self.pixels = check_pixels(self.pixels)
        self.opacity = float(min(1.0, max(0.0, self.opacity)))
        self.blend = BlendMode(self.blend)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def bounds(self) -> Rect:
        """The layer's rectangle in document coordinates."""
        return Rect(self.x, self.y, self.width, self.height)

    def props(self) -> dict[str, Any]:
        """The editable properties (everything except pixels and uid)."""
        return {
            "name": self.name, "opacity": self.opacity, "visible": self.visible,
            "x": self.x, "y": self.y, "blend": self.blend, "lock_alpha": self.lock_alpha,
            "generation": copy.deepcopy(self.generation), "guide": copy.deepcopy(self.guide),
        }

    def copy(self, *, new_uid: bool = True) -> Layer:
        """A deep copy (pixels included), with a fresh uid unless told otherwise."""
        layer = Layer(self.pixels.copy(), **self.props())
        if not new_uid:
            layer.uid = self.uid
        return layer


def relayer(layer: Layer, pixels: np.ndarray | None = None, **props: Any) -> Layer:
    """A new Layer object with the same uid; pixels are SHARED unless given.
    Sharing is safe because history swaps whole objects in linear order."""
    values = layer.props()
    values.update(props)
    new = Layer(layer.pixels if pixels is None else pixels, **values)
    new.uid = layer.uid
    return new
