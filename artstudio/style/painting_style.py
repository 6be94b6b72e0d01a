"""The arbitrary engine: any painting as the style (Magenta's arbitrary
stylization, Ghiasi et al.). A predictor turns a 256 px painting into a
100-number style vector, a transformer applies it at a fixed 384 px.
Strength moves in style-vector space from the content's own vector to the
painting's; several paintings mix in that space. The 384 px result comes
back to full size with the original's fine detail added (docs/style.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import shared_cache
from artstudio.style import onnx_runtime as rt
from artstudio.style import pixels as px

if TYPE_CHECKING:
    from artstudio.style.transfer import StyleOptions

ARBITRARY_SIZE = 384  # the arbitrary transformer's fixed input size
STYLE_SIZE = 256  # the predictor's input size


def style_vector(rgb: np.ndarray, device: str = "auto", streams: int = 1) -> np.ndarray:
    """The 100-number style vector (shape (1, 1, 1, 100)) of an RGB float
    image: its centre square at 256 px through the style predictor."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = px.resize(np.ascontiguousarray(rgb[top:top + side, left:left + side]),
                       STYLE_SIZE, STYLE_SIZE)
    sess = rt.session(rt.PREDICT, device, streams=streams)
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


def transform_at_384(rgb: np.ndarray, vector: np.ndarray, device: str = "auto",
                     streams: int = 1) -> np.ndarray:
    """Run the transformer: the image at 384 px on its longer side (reflect-
    padded to the fixed square), returned at that working size."""
    h, w = rgb.shape[:2]
    scale = ARBITRARY_SIZE / max(h, w)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = px.resize(rgb, sw, sh)
    small = np.pad(small, ((0, ARBITRARY_SIZE - sh), (0, ARBITRARY_SIZE - sw), (0, 0)),
                   mode="symmetric")
    sess = rt.session(rt.TRANSFORM, device, streams=streams)
    names = [i.name for i in sess.get_inputs()]
    out = sess.run(None, {names[0]: np.ascontiguousarray(small[None], np.float32),
                          names[1]: vector.astype(np.float32)})[0][0]
    return np.ascontiguousarray(out[:sh, :sw], np.float32)


def stylize_arbitrary(rgba: np.ndarray, options: StyleOptions, progress: Callable[..., None],
                      cancel: CancelToken | None, streams: int = 1) -> np.ndarray:
    """Any painting(s) as the style; strength moves in style-vector space.
    `streams`: images the caller runs at once (`onnx_runtime.session`)."""
    progress(0, 3, "Reading the style of the painting")
    original = px.rgb_float(rgba)
    vector = mixed_painting_vector(options)
    if options.strength < 1.0:
        own = style_vector(original, options.device, streams)
        vector = options.strength * vector + (1.0 - options.strength) * own
    progress(1, 3, "Stylizing")
    stylized = transform_at_384(original, vector, options.device, streams)
    progress(2, 3, "Bringing the result to full size")
    result = px.finish(stylized, original, rgba, options, fade=False)
    progress(3, 3, "Done")
    return result


def prepare_painting(options: StyleOptions, streams: int = 1) -> str:
    """The paintings' vectors and both networks; where they run, e.g. "cpu"."""
    mixed_painting_vector(options)
    rt.session(rt.TRANSFORM, options.device, streams=streams)
    if options.strength < 1.0:  # the content's own vector, per image
        rt.session(rt.PREDICT, options.device, streams=streams)
    return rt.session_device(rt.session(rt.PREDICT, options.device))
