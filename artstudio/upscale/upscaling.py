"""Super-resolution with any upscaler that spandrel recognises, tiled so any
image size fits.

Model files are read through `safe_load` (safetensors, or pickles with
`weights_only=True` only) and handed to spandrel as a state dict, so nothing
in a file can run code. Images are processed in tiles that carry real
neighbouring context and are blended over their overlap with linear ramps;
an out-of-memory error splits the tile in hand and carries on. A seamless
mode takes the context across the borders (wrap-around), so a tileable
texture stays tileable. Alpha is upscaled separately and recombined.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError, is_out_of_memory
from artstudio.engine.model_cache import estimate_size, shared_cache

MIN_TILE = 32
BUILTIN = "builtin"  # UpscaleOptions.model for the networks in models/
# Float accumulators for one band of output rows stay under this, however wide.
BAND_BYTES = 192 * 1024**2
EMIT_ROWS = 64  # finished rows are handed on in blocks of at most this many


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


@dataclass
class Upscaler:
    """A spandrel model as the tiler sees it: scale, size rules, run() and
    run_alpha(). sd_upscale.DiffusionUpscaler has the same interface."""

    descriptor: Any  # spandrel ImageModelDescriptor
    device: str
    dtype: str
    path: Path
    preferred_tile = None  # None: the tile follows free memory (auto_tile)

    def with_options(self, options: UpscaleOptions, cancel: CancelToken | None) -> Upscaler:
        """The model set up for one run (a spandrel model has nothing to set)."""
        return self

    @property
    def scale(self) -> int:
        return int(self.descriptor.scale)

    @property
    def multiple_of(self) -> int:
        return max(1, int(self.descriptor.size_requirements.multiple_of))

    @property
    def minimum(self) -> int:
        return int(self.descriptor.size_requirements.minimum)

    def run(self, rgb: np.ndarray) -> np.ndarray:
        """One forward pass: HxWx3 float32 0..1 in, (sH)x(sW)x3 out."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
        x = x.to(self.device, getattr(torch, self.dtype))
        with torch.inference_mode():
            y = self.descriptor(x)
        return y[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()

    def run_alpha(self, alpha: np.ndarray) -> np.ndarray:
        """Alpha (HxW float) through the network as a grey image of its own."""
        grey = _run_padded(self, np.repeat(alpha[..., None], 3, axis=2))
        return grey.mean(axis=2)


def load_upscaler(path: str | Path, device: str = "auto", precision: str = "auto") -> Upscaler:
    """Load (cached) a super-resolution model: a spandrel file, or Stable
    Diffusion's x4 upscaler as a diffusers folder. Anything else is refused."""
    from artstudio.engine.devices import choose_device

    path = Path(path)
    if path.is_dir():
        from artstudio.upscale.sd_x4 import is_diffusion_upscaler, load_diffusion_upscaler

        if not is_diffusion_upscaler(path):
            raise UserFacingError(f"{path.name} is a folder but not Stable Diffusion's x4 "
                                  "upscaler; choose an upscaler model file.")
        return load_diffusion_upscaler(path, device, precision)
    choice = choose_device(device, precision)
    key = ("upscaler", str(path.resolve()), choice.device, choice.dtype)
    return shared_cache().get(key, lambda: _load(path, choice),
                              size_of=lambda up: estimate_size(up.descriptor.model))


def _load(path: Path, choice) -> Upscaler:
    from spandrel import ImageModelDescriptor, ModelLoader, UnsupportedModelError

    from artstudio.model_files.safe_load import load_state_dict

    state = load_state_dict(path)  # refuses anything but plain tensors
    try:
        descriptor = ModelLoader().load_from_state_dict(state)
    except UnsupportedModelError as exc:
        raise UserFacingError(f"{path.name} is not an upscaler that Artstudio knows "
                              "(spandrel does not recognise its architecture).") from exc
    if not isinstance(descriptor, ImageModelDescriptor) or descriptor.purpose != "SR":
        raise UserFacingError(f"{path.name} is a {descriptor.architecture.name} model for "
                              f"{getattr(descriptor, 'purpose', 'another task')}, "
                              "not a super-resolution model.")
    dtype = choice.dtype
    if dtype == "float16" and not descriptor.supports_half:
        dtype = "float32"
    if dtype == "bfloat16" and not descriptor.supports_bfloat16:
        dtype = "float32"
    import torch

    descriptor.to(choice.torch_device, getattr(torch, dtype)).eval()
    return Upscaler(descriptor, choice.device, dtype, path)


def auto_tile(model: Upscaler) -> int:
    """A tile side that fits in about half the free memory, by a rough
    per-pixel activation cost; an out-of-memory error still halves it."""
    from artstudio.engine.devices import free_memory_bytes

    if model.preferred_tile:
        return model.preferred_tile
    params = sum(p.numel() for p in model.descriptor.model.parameters())
    width = max(32, min(256, int(math.sqrt(params / 9))))  # ~feature channels
    per_pixel = 4 * width * 6 * max(1, model.scale) ** 2
    side = int(math.sqrt(free_memory_bytes(model.device) * 0.5 / per_pixel))
    side = max(MIN_TILE, min(1024, side))
    return side // model.multiple_of * model.multiple_of or model.multiple_of


def _windows(h: int, w: int, tile_h: int, tile_w: int,
             overlap: int) -> list[tuple[int, int, int, int]]:
    """Tile windows (y0, x0, y1, x1) covering the image, neighbours sharing `overlap`."""
    ys = list(range(0, max(1, h - overlap), max(1, tile_h - overlap))) or [0]
    xs = list(range(0, max(1, w - overlap), max(1, tile_w - overlap))) or [0]
    return [(y, x, min(h, y + tile_h), min(w, x + tile_w)) for y in ys for x in xs]


def _split(window: tuple[int, int, int, int], overlap: int) -> list[tuple[int, int, int, int]]:
    y0, x0, y1, x1 = window
    ym, xm = (y0 + y1) // 2, (x0 + x1) // 2
    half = overlap // 2
    rows = [(y0, min(y1, ym + half)), (max(y0, ym - half), y1)] if y1 - y0 > MIN_TILE else \
        [(y0, y1)]
    cols = [(x0, min(x1, xm + half)), (max(x0, xm - half), x1)] if x1 - x0 > MIN_TILE else \
        [(x0, x1)]
    return [(a, c, b, d) for a, b in rows for c, d in cols]


def _ramp(length: int, fade_start: int, fade_end: int) -> np.ndarray:
    """1 inside, a linear fade over `fade_start`/`fade_end` samples at the ends."""
    weight = np.ones(length, np.float32)
    if fade_start:
        weight[:fade_start] = np.linspace(1 / (fade_start + 1), 1, fade_start, endpoint=False)
    if fade_end:
        weight[length - fade_end:] = np.linspace(1, 1 / (fade_end + 1), fade_end)
    return weight


def _as_float(patch: np.ndarray) -> np.ndarray:
    if patch.dtype == np.uint8:
        return patch.astype(np.float32) * (1 / 255)
    return patch.astype(np.float32, copy=False)


def _run_padded(model: Upscaler, image: np.ndarray) -> np.ndarray:
    """Run a float RGB patch, padding it up to the model's size requirements."""
    h, w = image.shape[:2]
    m = model.multiple_of
    th = max(model.minimum, -(-h // m) * m)
    tw = max(model.minimum, -(-w // m) * m)
    if (th, tw) != (h, w):
        image = np.pad(image, ((0, th - h), (0, tw - w), (0, 0)), mode="reflect")
    out = model.run(image)
    return out[: h * model.scale, : w * model.scale]


def _run_tile(model: Upscaler, patch: np.ndarray, with_alpha: bool) -> np.ndarray:
    """RGB (and alpha, as a grey image of its own) of one patch, upscaled."""
    rgb = _run_padded(model, _as_float(patch[..., :3]))
    if patch.shape[2] == 3:
        return rgb
    if with_alpha:
        alpha = model.run_alpha(_as_float(patch[..., 3]))[..., None]
    else:
        alpha = np.ones((*rgb.shape[:2], 1), np.float32)
    return np.concatenate([rgb, alpha], axis=2)


def band_tile_height(width: int, scale: int, channels: int, tile: int, overlap: int,
                     band_bytes: int = BAND_BYTES) -> int:
    """Tile height that keeps the float band (the output rows of one row of
    tiles, plus a weight channel) within `band_bytes`, however wide the image.
    Never below MIN_TILE or 4x the overlap: very wide images get more memory
    rather than tiles that are mostly context."""
    per_row = width * scale * (channels + 1) * 4
    rows = band_bytes // max(1, per_row) // max(1, scale)
    return max(MIN_TILE, 4 * overlap, min(tile, rows))


def upscale_rows(model: Upscaler, image: np.ndarray, tile: int | None = None,
                 overlap: int = 16, seamless: bool = False, progress=None,
                 cancel: CancelToken | None = None, with_alpha: bool = True,
                 band_bytes: int = BAND_BYTES) -> Iterator[np.ndarray]:
    """Upscale HxWxC (C = 3 or 4; uint8, or float 0..1) by the model's scale,
    tile by tile, yielding finished uint8 rows from the top down.

    Blending needs float accumulators, but only for the band of rows the
    current row of tiles touches, and that band's height is capped by
    `band_bytes`: memory does not grow with the result, so a caller can write
    the rows to disk as they come (see `UpscaleStream`)."""
    h, w, channels = image.shape
    s = model.scale
    tile_w = max(MIN_TILE, tile or auto_tile(model))
    overlap = max(0, min(overlap, tile_w // 4))
    tile_h = band_tile_height(w, s, channels, tile_w, overlap, band_bytes)
    overlap = min(overlap, tile_h // 4)  # a short tile must still be mostly its own
    context = overlap  # real pixels around every tile: the network sees its surroundings
    padded = np.pad(image, ((context, context), (context, context), (0, 0)),
                    mode="wrap" if seamless else "reflect")
    # (row key, window): a window split after an out-of-memory error keeps its row.
    queue = deque((win[0], win) for win in _windows(h, w, tile_h, tile_w, overlap))
    # The band: output rows [band_top, band_top + used) of the rows of tiles in hand,
    # in buffers allocated once (a row of tiles spans at most tile_h input rows).
    rows = tile_h * s
    acc = np.zeros((rows, w * s, channels), np.float32)
    weight = np.zeros((rows, w * s, 1), np.float32)
    band_top, used = 0, 0
    row = None
    done, total = 0, len(queue)

    def take(upto: int) -> Iterator[np.ndarray]:
        """Output rows [band_top, upto) as uint8, a few rows at a time (the
        float temporaries stay small); the rest of the band moves up."""
        nonlocal band_top, used
        n = min(upto - band_top, used)
        if n <= 0:
            band_top = max(band_top, upto)
            return
        for top in range(0, n, EMIT_ROWS):
            end = min(n, top + EMIT_ROWS)
            block = acc[top:end] / np.maximum(weight[top:end], 1e-8)
            block *= 255
            block += 0.5
            yield block.clip(0, 255, out=block).astype(np.uint8)
        rest = used - n
        acc[:rest] = acc[n:used]
        weight[:rest] = weight[n:used]
        acc[rest:used] = 0
        weight[rest:used] = 0
        band_top, used = band_top + n, rest

    while queue:
        if cancel is not None:
            cancel.raise_if_cancelled()
        key, (y0, x0, y1, x1) = queue.popleft()
        if key != row:  # a new row of tiles: rows above its top are final
            yield from take(y0 * s)
            row = key
        patch = padded[y0:y1 + 2 * context, x0:x1 + 2 * context]
        try:
            result = _run_tile(model, patch, with_alpha)
        except Exception as exc:
            if not is_out_of_memory(exc) or (y1 - y0 <= MIN_TILE and x1 - x0 <= MIN_TILE):
                raise
            from artstudio.engine.devices import empty_device_caches

            empty_device_caches()
            parts = _split((y0, x0, y1, x1), overlap)
            total += len(parts) - 1
            queue.extendleft((key, part) for part in reversed(parts))  # smaller, from here on
            continue
        core = result[context * s:(context + y1 - y0) * s, context * s:(context + x1 - x0) * s]
        fade = overlap * s
        wy = _ramp(core.shape[0], fade if y0 > 0 else 0, fade if y1 < h else 0)
        wx = _ramp(core.shape[1], fade if x0 > 0 else 0, fade if x1 < w else 0)
        wt = (wy[:, None] * wx[None, :])[..., None]
        top = y0 * s - band_top
        used = max(used, top + core.shape[0])
        acc[top:top + core.shape[0], x0 * s:x1 * s] += core * wt
        weight[top:top + core.shape[0], x0 * s:x1 * s] += wt
        done += 1
        if progress is not None:
            progress(done, total, f"Tile {done} of {total}")
    yield from take(h * s)


def _gather(blocks: Iterator[np.ndarray], shape: tuple[int, int, int]) -> np.ndarray:
    """Row blocks, top to bottom, into one uint8 array."""
    out = np.empty(shape, np.uint8)
    y = 0
    for block in blocks:
        out[y:y + len(block)] = block
        y += len(block)
    return out


def upscale_array(model: Upscaler, image: np.ndarray, tile: int | None = None,
                  overlap: int = 16, seamless: bool = False, progress=None,
                  cancel: CancelToken | None = None, with_alpha: bool = True) -> np.ndarray:
    """`upscale_rows` gathered into one uint8 array of (sH)x(sW)xC."""
    h, w, channels = image.shape
    return _gather(upscale_rows(model, image, tile, overlap, seamless, progress, cancel,
                                with_alpha), (h * model.scale, w * model.scale, channels))


def target_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(1, round(width * scale)), max(1, round(height * scale))


def builtin_models_dir() -> Path:
    """models/ beside the package in a checkout and in the frozen app."""
    env = os.environ.get("ARTSTUDIO_BUILTIN_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models"


def builtin_model_path(scale: float | None) -> Path:
    """The built-in network for an output scale: the 2x one up to 2x, the 4x
    one above (its result is resampled down to the scale asked for)."""
    native = 2 if scale is None or scale <= 2 else 4
    path = builtin_models_dir() / f"builtin-upscaler-x{native}.safetensors"
    if not path.is_file():
        raise UserFacingError(f"The built-in {native}x upscaler is missing from this "
                              f"installation ({path}). Reinstall Artstudio, or choose a "
                              "model file.")
    return path


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
        return _gather(self.rows(), (self.height, self.width, self.channels))


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


def verify_builtin_models() -> list[str]:
    """Problems with the shipped networks: missing, or not the bytes that
    models/manifest.json records (a damaged or altered installation)."""
    import hashlib
    import json

    folder = builtin_models_dir()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"models/manifest.json cannot be read: {exc}"]
    problems = []
    for name, entry in manifest.get("models", {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry.get("sha256"):
            problems.append(f"{name} differs from the manifest's sha256")
    return problems
