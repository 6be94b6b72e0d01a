"""Style transfer on a layer: three engines behind one call.

* **builtin**: the 26-style network (multistyle26.onnx, Dumoulin et al.),
  one style or a weighted blend, at any size (reflect-padded to a multiple
  of 4), optionally at a smaller working size.
* **arbitrary**: any painting as the style (Magenta's arbitrary stylization,
  Ghiasi et al.): a predictor turns a 256 px painting into a 100-number
  style vector, a transformer applies it at a fixed 384 px. Strength moves
  in style-vector space from the content's own vector to the painting's;
  several paintings mix in that space. The 384 px result is brought to full
  size with the original's fine detail added back (see docs/style.md).
* **cyclegan**: a CycleGAN "painter" generator (.pth/.safetensors), tiled.

    out = stylize(rgba, StyleOptions.builtin("3:0.7,lilac:0.3", strength=0.8))

Every engine takes and returns straight RGBA uint8 of the same size and keeps
the input's alpha (unless told not to). Models load once through a cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import shared_cache
from artstudio.style import onnx_runtime as rt
from artstudio.style import pixels as px

NUM_STYLES = 26
ARBITRARY_SIZE = 384  # the arbitrary transformer's fixed input size
STYLE_SIZE = 256  # the predictor's input size
ENGINES = ("builtin", "arbitrary", "cyclegan")

# The package numbers its styles without names; these are ours, chosen from
# what each style does to a photo, so artists can say `--style frost`.
BUILTIN_STYLES: tuple[str, ...] = (
    "pastel", "ink-outline", "grey-wash", "electric", "red-oil", "sunset",
    "indigo", "primaries", "watercolour", "mosaic", "umber", "parchment",
    "lilac", "verdant", "frost", "stained-glass", "blue-strokes", "blocks",
    "sepia", "swirl", "ember", "cut-paper", "charcoal-blue", "shadow",
    "ivory", "weave",
)

ProgressFn = Callable[..., None]


def _no_progress(*_args: Any, **_kwargs: Any) -> None:
    return None


# ---- style choice -----------------------------------------------------------

def style_index(token: str | int) -> int:
    """A built-in style by index ("7", 7) or by name ("frost", any case)."""
    if isinstance(token, int) or str(token).strip().isdigit():
        index = int(token)
        if not 0 <= index < NUM_STYLES:
            raise ValueError(f"style index must be 0 to {NUM_STYLES - 1}, got {index}")
        return index
    name = str(token).strip().lower().replace("_", "-")
    if name in BUILTIN_STYLES:
        return BUILTIN_STYLES.index(name)
    raise ValueError(f"unknown style {token!r}; use 0 to {NUM_STYLES - 1} or a name "
                     "from --list-styles")


def style_weights(spec: str | int | Mapping[str | int, float] | Sequence[float]
                  ) -> tuple[float, ...]:
    """Normalised weights for the 26 styles from a spec: an index or name,
    a string blend "3:0.7,lilac:0.3" (a missing weight counts 1), a mapping
    {style: weight}, or 26 numbers. Weights are scaled to sum to 1."""
    w = np.zeros(NUM_STYLES, np.float64)
    if isinstance(spec, int):
        w[style_index(spec)] = 1.0
    elif isinstance(spec, str):
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        if not parts:
            raise ValueError("empty style; use e.g. 7, frost or 3:0.7,frost:0.3")
        for part in parts:
            token, sep, weight = part.partition(":")
            try:
                value = float(weight) if sep else 1.0
            except ValueError:
                raise ValueError(f"bad weight in {part!r}; use STYLE:WEIGHT, e.g. 3:0.7") from None
            w[style_index(token)] += value
    elif isinstance(spec, Mapping):
        for token, weight in spec.items():
            w[style_index(token)] += float(weight)
    else:
        arr = np.asarray(spec, np.float64)
        if arr.shape != (NUM_STYLES,):
            raise ValueError(f"a weight list needs {NUM_STYLES} values, got {arr.shape}")
        w = arr.copy()
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("style weights must be non-negative and not all zero")
    return tuple(float(v) for v in w / w.sum())


def describe_weights(weights: Sequence[float]) -> str:
    """"frost" or "3 electric 70%, 12 lilac 30%" for summaries."""
    used = [(i, v) for i, v in enumerate(weights) if v > 0]
    if len(used) == 1:
        return f"{used[0][0]} {BUILTIN_STYLES[used[0][0]]}"
    return ", ".join(f"{i} {BUILTIN_STYLES[i]} {v:.0%}" for i, v in used)


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
            if len(ws) != len(self.style_images) or min(ws) < 0 or sum(ws) <= 0:
                raise ValueError("give one non-negative weight per style image, not all zero")
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


# ---- the built-in network ---------------------------------------------------

def _work_rgb(rgb: np.ndarray, max_size: int | None) -> np.ndarray:
    h, w = rgb.shape[:2]
    ww, wh = px.fit_within(w, h, max_size)
    return px.resize(rgb, ww, wh)


def _finish(stylized_work: np.ndarray, original: np.ndarray, rgba: np.ndarray,
            options: StyleOptions, fade: bool) -> np.ndarray:
    """Full size, colour, strength and alpha: the steps every engine shares."""
    out = px.upscale_result(stylized_work, original, detail=options.detail)
    if options.preserve_color:
        out = px.keep_colour(out, original)
    if fade:
        out = px.mix(out, original, options.strength)
    return px.attach_alpha(px.to_uint8(out), rgba, options.keep_alpha)


def _check_image(rgba: np.ndarray) -> None:
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8:
        raise ValueError(f"expected an RGBA uint8 image (h, w, 4), got {rgba.dtype} "
                         f"{rgba.shape}")


def stylize_builtin(rgba: np.ndarray, options: StyleOptions,
                    progress: ProgressFn = _no_progress,
                    cancel: CancelToken | None = None) -> np.ndarray:
    """One of the 26 built-in styles (or a blend) on an RGBA uint8 image."""
    _check_image(rgba)
    progress(0, 2, "Loading the style network")
    sess = rt.session(rt.MULTISTYLE, options.device)
    original = px.rgb_float(rgba)
    work = _work_rgb(original, options.max_size)
    padded, h, w = px.reflect_pad(work, 4)
    progress(1, 2, "Stylizing")
    x = np.ascontiguousarray(padded.transpose(2, 0, 1)[None])
    weights = np.asarray(options.style_weights, np.float32)
    out = sess.run(None, {"image": x, "style_weights": weights})[0][0]
    stylized = np.ascontiguousarray(out.transpose(1, 2, 0)[:h, :w], np.float32)
    result = _finish(stylized, original, rgba, options, fade=True)
    progress(2, 2, "Done")
    return result


# ---- any painting as the style ----------------------------------------------

def style_vector(rgb: np.ndarray, device: str = "auto") -> np.ndarray:
    """The 100-number style vector (shape (1, 1, 1, 100)) of an RGB float
    image: its centre square at 256 px through the style predictor."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = px.resize(np.ascontiguousarray(rgb[top:top + side, left:left + side]),
                       STYLE_SIZE, STYLE_SIZE)
    sess = rt.session(rt.PREDICT, device)
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: np.ascontiguousarray(square[None], np.float32)})[0]


def painting_vector(path: str | os.PathLike, device: str = "auto") -> np.ndarray:
    """The style vector of a painting file, cached (by path, size and time)
    so a batch reads its style images once."""
    from artstudio.document.io_images import load_image

    p = Path(path)
    try:
        stat = p.stat()
    except OSError as exc:
        raise UserFacingError(f"The style image “{p.name}” cannot be read: "
                              f"{exc.strerror or exc}") from exc
    key = ("style-vector", str(p.resolve()), stat.st_size, stat.st_mtime_ns, device)

    def compute() -> np.ndarray:
        rgba, _notes = load_image(p)
        return style_vector(px.rgb_float(rgba), device)

    return shared_cache().get(key, compute, size_of=lambda v: v.nbytes)


def mixed_painting_vector(options: StyleOptions) -> np.ndarray:
    """The weighted mix of the paintings' style vectors."""
    ws = np.asarray(options.style_image_weights, np.float32)
    ws = ws / ws.sum()
    vecs = [painting_vector(p, options.device) for p in options.style_images]
    return sum((w * v for w, v in zip(ws, vecs, strict=True)), np.zeros_like(vecs[0]))


def transform_at_384(rgb: np.ndarray, vector: np.ndarray, device: str = "auto") -> np.ndarray:
    """Run the transformer: the image at 384 px on its longer side (reflect-
    padded to the fixed square), returned at that working size."""
    h, w = rgb.shape[:2]
    scale = ARBITRARY_SIZE / max(h, w)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = px.resize(rgb, sw, sh)
    small = np.pad(small, ((0, ARBITRARY_SIZE - sh), (0, ARBITRARY_SIZE - sw), (0, 0)),
                   mode="symmetric")
    sess = rt.session(rt.TRANSFORM, device)
    names = [i.name for i in sess.get_inputs()]
    out = sess.run(None, {names[0]: np.ascontiguousarray(small[None], np.float32),
                          names[1]: vector.astype(np.float32)})[0][0]
    return np.ascontiguousarray(out[:sh, :sw], np.float32)


def stylize_arbitrary(rgba: np.ndarray, options: StyleOptions,
                      progress: ProgressFn = _no_progress,
                      cancel: CancelToken | None = None) -> np.ndarray:
    """Any painting(s) as the style; strength moves in style-vector space."""
    _check_image(rgba)
    progress(0, 3, "Reading the style of the painting")
    original = px.rgb_float(rgba)
    vector = mixed_painting_vector(options)
    if options.strength < 1.0:
        own = style_vector(original, options.device)
        vector = options.strength * vector + (1.0 - options.strength) * own
    progress(1, 3, "Stylizing")
    stylized = transform_at_384(original, vector, options.device)
    progress(2, 3, "Bringing the result to full size")
    result = _finish(stylized, original, rgba, options, fade=False)
    progress(3, 3, "Done")
    return result


# ---- CycleGAN painters ------------------------------------------------------

def _torch_device(options: StyleOptions) -> str:
    from artstudio.engine.devices import choose_device

    return choose_device(options.device).device


def cyclegan_model(options: StyleOptions):
    """The cached generator for `options.cyclegan_path` on the chosen device."""
    from artstudio.style.cyclegan import load_generator

    path = Path(options.cyclegan_path or "")
    try:
        stat = path.stat()
    except OSError as exc:
        raise UserFacingError(f"The CycleGAN model “{path.name}” cannot be read: "
                              f"{exc.strerror or exc}") from exc
    device = _torch_device(options)
    key = ("cyclegan", str(path.resolve()), stat.st_size, stat.st_mtime_ns, device)
    return shared_cache().get(key, lambda: load_generator(path, device))


def stylize_cyclegan(rgba: np.ndarray, options: StyleOptions,
                     progress: ProgressFn = _no_progress,
                     cancel: CancelToken | None = None) -> np.ndarray:
    """A CycleGAN painter on an RGBA image, tiled with overlap when large."""
    from artstudio.style.cyclegan import run_generator

    _check_image(rgba)
    progress(0, 1, "Loading the CycleGAN model")
    net = cyclegan_model(options)
    device = str(next(net.parameters()).device)
    original = px.rgb_float(rgba)
    work = _work_rgb(original, options.max_size)
    stylized = run_generator(net, work, device, tile=options.tile,
                             on_tile=lambda i, n: progress(i, n + 1, f"Tile {i} of {n}"),
                             cancel=cancel)
    return _finish(stylized, original, rgba, options, fade=True)


# ---- one entry point --------------------------------------------------------

_ENGINES: dict[str, Callable[..., np.ndarray]] = {
    "builtin": stylize_builtin,
    "arbitrary": stylize_arbitrary,
    "cyclegan": stylize_cyclegan,
}


def stylize(rgba: np.ndarray, options: StyleOptions,
            progress: ProgressFn | None = None,
            cancel: CancelToken | None = None) -> np.ndarray:
    """Stylize an RGBA uint8 image with the engine `options` names; returns
    RGBA uint8 of the same size. Raises UserFacingError for unusable models."""
    options.checked()
    return _ENGINES[options.engine](rgba, options, progress or _no_progress, cancel)


def prepare(options: StyleOptions) -> str:
    """Load everything the options need (networks, painting vectors, the
    CycleGAN file) so a bad model fails once, before a batch starts. Returns
    where it runs, e.g. "cpu"."""
    options.checked()
    if options.engine == "builtin":
        return rt.session_device(rt.session(rt.MULTISTYLE, options.device))
    if options.engine == "arbitrary":
        mixed_painting_vector(options)
        rt.session(rt.TRANSFORM, options.device)
        return rt.session_device(rt.session(rt.PREDICT, options.device))
    net = cyclegan_model(options)
    return str(next(net.parameters()).device)


def style_processor(options: StyleOptions,
                    cancel: CancelToken | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A per-image function `fn(rgba) -> rgba` for the batch pipeline."""
    prepare(options)

    def process(rgba: np.ndarray) -> np.ndarray:
        return stylize(rgba, options, None, cancel)

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


__all__ = [
    "BUILTIN_STYLES",
    "NUM_STYLES",
    "StyleLayerJob",
    "StyleOptions",
    "describe_weights",
    "painting_vector",
    "prepare",
    "run_style_job",
    "style_index",
    "style_processor",
    "style_vector",
    "style_weights",
    "stylize",
    "stylize_arbitrary",
    "stylize_builtin",
    "stylize_cyclegan",
    "transform_at_384",
]
