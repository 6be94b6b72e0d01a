"""The cyclegan engine: a CycleGAN painter (`*_net_G*.pth` of the public
release, or .safetensors) as a style, cached between images and run in
tiles through the upscale tiler (`cyclegan.run_generator`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import shared_cache
from artstudio.style import pixels as px

if TYPE_CHECKING:
    from artstudio.style.transfer import StyleOptions


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


def stylize_cyclegan(rgba: np.ndarray, options: StyleOptions, progress: Callable[..., None],
                     cancel: CancelToken | None) -> np.ndarray:
    """A CycleGAN painter on an RGBA image, tiled with overlap when large."""
    from artstudio.style.cyclegan import run_generator

    progress(0, 1, "Loading the CycleGAN model")
    net = cyclegan_model(options)
    device = str(next(net.parameters()).device)
    original = px.rgb_float(rgba)
    work = px.work_rgb(original, options.max_size)
    stylized = run_generator(net, work, device, tile=options.tile,
                             on_tile=lambda i, n: progress(i, n + 1, f"Tile {i} of {n}"),
                             cancel=cancel)
    return px.finish(stylized, original, rgba, options, fade=True)


def prepare_cyclegan(options: StyleOptions) -> str:
    """Load the generator (refusing unsafe or foreign files); where it runs."""
    return str(next(cyclegan_model(options).parameters()).device)
