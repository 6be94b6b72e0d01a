"""Upscaling as the app, the command line and batches ask for it: options,
choosing and loading the model, any output scale, alpha, and results that
stream to disk row band by row band.

Every upscaler kind (`spandrel_models`, `openvino_compact`, `sd_x4`) is a `protocol.Upscaler`
and runs through the same `tiler`; Lanczos needs no model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.upscale.builtin import BUILTIN, builtin_model_path
from artstudio.upscale.protocol import Upscaler
from artstudio.upscale.tiler import gather, upscale_rows


@dataclass(frozen=True)
class UpscaleOptions:
    """model: a spandrel model file, Stable Diffusion's x4 upscaler (a
    diffusers folder), "builtin", or None for Lanczos. scale: the output
    scale (None: the model's own); the model runs at its scale and the result
    is resampled to this one. tile: input tile side in pixels (None: chosen
    from free memory). overlap: pixels shared by neighbouring tiles."""

    model: str | None = None
    scale: float | None = None
    tile: int | None = None
    overlap: int = 16
    seamless: bool = False
    device: str = "auto"
    precision: str = "auto"
    # Stable Diffusion's x4 upscaler only (a diffusers folder as the model):
    prompt: str = ""
    steps: int = 20
    noise_level: int = 20
    seed: int = 0


def load_upscaler(path: str | Path, device: str = "auto", precision: str = "auto") -> Upscaler:
    """Load (cached) a super-resolution model: a spandrel file, or Stable
    Diffusion's x4 upscaler as a diffusers folder. Anything else is refused."""
    path = Path(path)
    if path.is_dir():
        from artstudio.upscale.sd_x4 import is_diffusion_upscaler, load_diffusion_upscaler

        if not is_diffusion_upscaler(path):
            raise UserFacingError(f"{path.name} is a folder but not Stable Diffusion's x4 "
                                  "upscaler; choose an upscaler model file.")
        return load_diffusion_upscaler(path, device, precision)
    from artstudio.upscale import openvino_compact

    layout = openvino_compact.usable(path, device, precision)
    if layout is not None:
        return openvino_compact.load_openvino_compact(path, layout)
    from artstudio.upscale.spandrel_models import load_spandrel

    return load_spandrel(path, device, precision)


def target_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


def model_path(options: UpscaleOptions) -> str | None:
    """The model file the options name ("builtin" resolved), or None for Lanczos."""
    if options.model == BUILTIN:
        return str(builtin_model_path(options.scale))
    return options.model


@dataclass
class UpscaleStream:
    """A result made row band by row band while it is written, for outputs
    too large to hold (a 4096 px image at 4x is 1 GB of pixels)."""

    width: int
    height: int
    channels: int
    make_rows: Callable[[], Iterator[np.ndarray]]
    opaque: bool = False

    def rows(self) -> Iterator[np.ndarray]:
        return self.make_rows()

    def to_array(self) -> np.ndarray:
        return gather(self.rows(), (self.height, self.width, self.channels))


def _lanczos(rgba: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgba, "RGBA").resize(size, Image.Resampling.LANCZOS))


def upscale(rgba: np.ndarray, options: UpscaleOptions, progress=None,
            cancel: CancelToken | None = None) -> np.ndarray:
    """Upscale straight RGBA uint8; alpha is upscaled on its own and recombined."""
    result = upscale_for_writing(rgba, options, progress, cancel)
    return result.to_array() if isinstance(result, UpscaleStream) else result


def upscale_for_writing(rgba: np.ndarray, options: UpscaleOptions, progress=None,
                        cancel: CancelToken | None = None) -> np.ndarray | UpscaleStream:
    """Like `upscale`, but at the model's own scale the result comes as an
    `UpscaleStream` that a writer can take row band by row band."""
    if rgba.shape[2] == 3:
        rgba = np.dstack([rgba, np.full(rgba.shape[:2], 255, np.uint8)])
    h, w = rgba.shape[:2]
    path = model_path(options)
    if path is None:
        return _lanczos(rgba, target_size(w, h, options.scale or 2.0))
    model = load_upscaler(path, options.device, options.precision).with_options(options, cancel)
    size = target_size(w, h, options.scale or float(model.scale))
    has_alpha = bool((rgba[..., 3] < 255).any())

    def rows() -> Iterator[np.ndarray]:
        return upscale_rows(model, rgba, options.tile, options.overlap, options.seamless,
                            progress, cancel, with_alpha=has_alpha)

    stream = UpscaleStream(w * model.scale, h * model.scale, 4, rows, opaque=not has_alpha)
    if size == (stream.width, stream.height):
        return stream
    return _lanczos(stream.to_array(), size)


def find_upscalers(folders=(), progress=None, cancel=None) -> list:
    """Upscaler models (spandrel files, SD x4 folders) in the app's models
    folder, the folders the user added and the Hugging Face cache: the
    ModelInfo of each, by name. (Engine job form: progress and cancel unused.)"""
    from artstudio.model_files.scan import default_roots, scan

    found = [info for info in scan(default_roots(folders)) if info.kind == "upscaler"]
    return sorted(found, key=lambda info: info.name.lower())


def upscale_processor(options: UpscaleOptions, cancel: CancelToken | None = None):
    """The per-image function of a folder batch: loads the model and checks
    the options against it first, so a bad model or setting fails once, before
    any image; then upscales each image for writing."""
    path = model_path(options)  # refuses a missing built-in model
    if path is not None:
        if not Path(path).exists():
            raise UserFacingError(f"model not found: {path}")
        load_upscaler(path, options.device, options.precision).with_options(options, cancel)

    def process(rgba: np.ndarray) -> np.ndarray | UpscaleStream:
        return upscale_for_writing(rgba, options, None, cancel)

    return process
