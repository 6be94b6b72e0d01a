"""The one interface every upscaler has, so the tiler never asks what kind of
model it holds. A new kind (another architecture, another runtime) is a class
with these members and a branch in `upscaling.load_upscaler`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from artstudio.engine.cancel import CancelToken
    from artstudio.upscale.upscaling import UpscaleOptions


@runtime_checkable
class Upscaler(Protocol):
    """A model as `tiler.upscale_rows` sees it. Sizes are in input pixels."""

    @property
    def scale(self) -> int:
        """Output pixels per input pixel (1 for an image-to-image network)."""
        ...

    @property
    def multiple_of(self) -> int:
        """Tile sides are padded up to a multiple of this before `run`."""
        ...

    @property
    def minimum(self) -> int:
        """The smallest tile side `run` accepts."""
        ...

    @property
    def preferred_tile(self) -> int:
        """The tile side to use when the caller names none."""
        ...

    def with_options(self, options: UpscaleOptions, cancel: CancelToken | None) -> Upscaler:
        """The model set up for one run (a prompt, a seed, a cancel token),
        refusing options out of its range."""
        ...

    def run(self, rgb: np.ndarray) -> np.ndarray:
        """One forward pass: HxWx3 float32 0..1 in, (sH)x(sW)x3 out."""
        ...

    def run_alpha(self, alpha: np.ndarray) -> np.ndarray:
        """Alpha, HxW float 0..1 in, (sH)x(sW) out."""
        ...
