"""Style transfer on a layer: three engines behind one call.

* **builtin** (`builtin_styles`): the 26-style network, one style or a blend.
* **arbitrary** (`painting_style`): any painting as the style.
* **cyclegan** (`cyclegan_style`): a CycleGAN "painter" generator, tiled.

    out = stylize(rgba, StyleOptions.builtin("3:0.7,lilac:0.3", strength=0.8))

Every engine takes and returns straight RGBA uint8 of the same size and keeps
the input's alpha (unless told not to). Models load once through a cache. A
new engine is a module with `stylize_X(rgba, options, progress, cancel)` and
`prepare_X(options)`, registered in `_ENGINES` with its options checked in
`StyleOptions.checked`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.engine import Lane
from artstudio.engine.cancel import CancelToken
from artstudio.style import onnx_runtime as rt
from artstudio.style import pixels as px
from artstudio.style.builtin_styles import (
    NUM_STYLES,
    describe_weights,
    prepare_builtin,
    style_weights,
    stylize_builtin,
)
from artstudio.style.cyclegan_style import prepare_cyclegan, stylize_cyclegan
from artstudio.style.painting_style import prepare_painting, stylize_arbitrary

ENGINES = ("builtin", "arbitrary", "cyclegan")

ProgressFn = Callable[..., None]


def _no_progress(*_args: Any, **_kwargs: Any) -> None:
    return None


@dataclass(frozen=True)
class StyleOptions:
    """An immutable description of one style transfer (safe to hand to a worker).

    engine: "builtin", "arbitrary" or "cyclegan".
    style_weights: 26 weights summing to 1 (builtin).
    style_images / style_image_weights: paintings and their mix (arbitrary).
    cyclegan_path: a generator file (cyclegan).
    strength: 0..1. Builtin and CycleGAN fade the result over the original;
        arbitrary interpolates the style vector from the content's own.
    preserve_color: keep the original's chroma, take luminance from the style.
    max_size: longest side to work at (builtin, cyclegan); the result is brought
        back to full size with detail from the original. None: full size.
    keep_alpha: re-attach the input's alpha; otherwise the output is opaque.
    detail: add the original's fine detail when coming back from the working size;
        False: a plain Lanczos resize.
    tile: CycleGAN tile size in pixels. device: "auto", "cpu", "cuda", ...
    """

    engine: str = "builtin"
    style_weights: tuple[float, ...] = field(default_factory=lambda: style_weights(0))
    style_images: tuple[str, ...] = ()
    style_image_weights: tuple[float, ...] = ()
    cyclegan_path: str | None = None
    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = None
    keep_alpha: bool = True
    detail: bool = True
    tile: int = 512
    device: str = "auto"

    @classmethod
    def builtin(cls, spec: Any = 0, **kw: Any) -> StyleOptions:
        return cls(engine="builtin", style_weights=style_weights(spec), **kw).checked()

    @classmethod
    def from_paintings(cls, paintings: Sequence[str | os.PathLike],
                       weights: Sequence[float] | None = None, **kw: Any) -> StyleOptions:
        paths = tuple(str(p) for p in paintings)
        ws = tuple(float(w) for w in (weights or [1.0] * len(paths)))
        return cls(engine="arbitrary", style_images=paths, style_image_weights=ws,
                   **kw).checked()

    @classmethod
    def cyclegan(cls, path: str | os.PathLike, **kw: Any) -> StyleOptions:
        return cls(engine="cyclegan", cyclegan_path=str(path), **kw).checked()

    def checked(self) -> StyleOptions:
        """Raise ValueError with a clear message for inconsistent options
        (diffusers' check_inputs habit); return self when all is well."""
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be between 0 and 1, got {self.strength}")
        if self.max_size is not None and self.max_size < px.MIN_WORK_SIDE:
            raise ValueError(f"max size must be at least {px.MIN_WORK_SIDE} pixels")
        if self.engine == "builtin":
            if len(self.style_weights) != NUM_STYLES or abs(sum(self.style_weights) - 1) > 1e-4:
                raise ValueError(f"style_weights needs {NUM_STYLES} values summing to 1")
        elif self.engine == "arbitrary":
            if not self.style_images:
                raise ValueError("the painting style needs at least one style image")
            ws = self.style_image_weights
            if (len(ws) != len(self.style_images) or not all(map(math.isfinite, ws))
                    or min(ws) < 0 or sum(ws) <= 0):
                raise ValueError("give one finite, non-negative weight per style image, "
                                 "not all zero")
        elif not self.cyclegan_path:
            raise ValueError("the CycleGAN engine needs a generator file")
        return self

    def describe(self) -> str:
        if self.engine == "builtin":
            return f"style {describe_weights(self.style_weights)}"
        if self.engine == "arbitrary":
            names = ", ".join(Path(p).name for p in self.style_images)
            return f"painting style from {names}"
        return f"CycleGAN {Path(self.cyclegan_path or '').name}"


# engine: (stylize, prepare)
_ENGINES: dict[str, tuple[Callable[..., np.ndarray], Callable[[StyleOptions], str]]] = {
    "builtin": (stylize_builtin, prepare_builtin),
    "arbitrary": (stylize_arbitrary, prepare_painting),
    "cyclegan": (stylize_cyclegan, prepare_cyclegan),
}


def _check_image(rgba: np.ndarray) -> None:
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8:
        raise ValueError(f"expected an RGBA uint8 image (h, w, 4), got {rgba.dtype} "
                         f"{rgba.shape}")


def _streams(streams: int) -> dict[str, int]:
    # Only the ONNX engines take `streams`; CycleGAN runs one image at a time.
    return {"streams": streams} if streams > 1 else {}


def stylize(rgba: np.ndarray, options: StyleOptions,
            progress: ProgressFn | None = None,
            cancel: CancelToken | None = None, streams: int = 1) -> np.ndarray:
    """Stylize an RGBA uint8 image with the engine `options` names; returns
    RGBA uint8 of the same size. Raises UserFacingError for unusable models.
    `streams`: how many images the caller stylizes at once (`batch_streams`)."""
    options.checked()
    _check_image(rgba)
    run, _prepare = _ENGINES[options.engine]
    return run(rgba, options, progress or _no_progress, cancel, **_streams(streams))


def prepare(options: StyleOptions, streams: int = 1) -> str:
    """Load everything the options need (networks, painting vectors, the
    CycleGAN file) so a bad model fails once, before a batch starts. Returns
    where it runs, e.g. "cpu"."""
    options.checked()
    _run, load = _ENGINES[options.engine]
    return load(options, **_streams(streams))


def batch_streams(options: StyleOptions) -> int:
    """Images a batch keeps in the network at once: two for the ONNX styles
    on a CPU (onnx_runtime.batch_streams), one for CycleGAN and accelerators."""
    if options.engine == "cyclegan":
        return 1
    return rt.batch_streams(options.device)


def lane_for(options: StyleOptions) -> Lane:
    """CycleGAN is a torch network that may use the GPU: the accelerator lane.
    The ONNX styles run on the CPU pool beside other work."""
    return Lane.ACCELERATOR if options.engine == "cyclegan" else Lane.POOL


def style_processor(options: StyleOptions,
                    cancel: CancelToken | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A per-image function `fn(rgba) -> rgba` for the batch pipeline, safe
    to call from several threads; its `calls_at_once` tells the pipeline how
    many images to give it at once."""
    streams = batch_streams(options)
    prepare(options, streams)

    def process(rgba: np.ndarray) -> np.ndarray:
        return stylize(rgba, options, None, cancel, streams)

    process.calls_at_once = streams  # type: ignore[attr-defined]
    return process


@dataclass(frozen=True)
class StyleLayerJob:
    """Parameters of a one-layer style job: a copy of the pixels and options."""

    pixels: np.ndarray
    options: StyleOptions


def run_style_job(params: StyleLayerJob, progress: ProgressFn,
                  cancel: CancelToken) -> np.ndarray:
    """The engine job form: `engine.submit(run_style_job, StyleLayerJob(...))`."""
    return stylize(params.pixels, params.options, progress, cancel)
