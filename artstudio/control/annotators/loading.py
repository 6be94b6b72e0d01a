"""An annotator's weights: found in the artist's folders, loaded safely into
its network (tensors only, never unpickled), checked against it, and kept for
the next control image; plus the resizing every annotator shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.model_files.safe_load import InvalidModelError

DETECT_RESOLUTION = 512  # the short side the annotators were trained and run at (A1111's default)


def find(names: Sequence[str], folders: Sequence[Path]) -> Path | None:
    """The first of `names` in `folders` or one folder below them (A1111's
    annotator/downloads/<module>/ and ComfyUI's per-author folders)."""
    for folder in folders:
        for name in names:
            if (folder / name).exists():
                return folder / name
            below = sorted(folder.glob(f"*/{name}")) if folder.is_dir() else []
            if below:
                return below[0]
    return None


def device_name(device: str | None) -> str:
    if device:
        return device
    from artstudio.engine.devices import choose_device

    return choose_device("auto").device


def load_weights(network, path: Path, what: str, rename: Callable[[dict, Any], dict] | None = None):
    """`network` with the tensors of `path`, which must be exactly its own
    (DataParallel's "module." prefix aside, and after `rename(state, network)`)."""
    from artstudio.model_files.safe_load import load_state_dict

    state = {k.removeprefix("module."): v for k, v in load_state_dict(path).items()}
    return fit(network, rename(state, network) if rename else state, path.name, what)


def fit(network, state: dict, name: str, what: str):
    """`network` with the tensors `state` (from the file `name`), which must
    be exactly its own, else a message saying what does not fit."""
    own = network.state_dict()
    missing = [k for k in own if k not in state]
    misfit = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    extra = [k for k in state if k not in own]
    if missing or misfit or extra:
        example = (missing or misfit or extra)[0]
        raise InvalidModelError(
            f"{name} does not hold the {what} network ({len(missing)} of its "
            f"{len(own)} tensors missing, {len(misfit)} of another shape, {len(extra)} "
            f"unknown, e.g. {example}); it may be another annotator's file.")
    network.load_state_dict(state)
    return network


def kept(key: tuple, make: Callable[[], Any], size_of: Callable[[Any], int] | None = None):
    """What `make` returns, made once per `key` and kept in the app's model
    cache (its memory budget, Tools > Unload All Models)."""
    from artstudio.engine.model_cache import estimate_size, shared_cache

    return shared_cache().get(("annotator", *key), make, size_of or estimate_size)


def network(path: Path, device: str, build: Callable[[], Any], what: str,
            rename: Callable[[dict, Any], dict] | None = None):
    """The network `build` makes, with the weights of `path`, on `device`."""
    from artstudio.engine.network_building import NETWORK_BUILDING

    def make():
        with NETWORK_BUILDING:
            return load_weights(build(), path, what, rename).float().eval().to(device)

    stat = path.stat()
    return kept((build, str(path.resolve()), stat.st_mtime_ns, stat.st_size, device), make)


def forget() -> None:
    """Drop the kept annotators from the model cache."""
    from artstudio.engine.model_cache import shared_cache

    cache = shared_cache()
    for key in list(cache.keys()):
        if isinstance(key, tuple) and key[:1] == ("annotator",):
            cache.unload(key)


def detect_size(height: int, width: int, resolution: int | None = None) -> tuple[int, int]:
    """(height, width) with the short side at `resolution` (DETECT_RESOLUTION),
    both a multiple of 64, as controlnet-aux's resize_image gives the networks."""
    k = (resolution or DETECT_RESOLUTION) / min(height, width)
    return (max(64, round(height * k / 64.0) * 64),
            max(64, round(width * k / 64.0) * 64))


def resized(image: np.ndarray, height: int, width: int, cubic: bool = False) -> np.ndarray:
    import cv2

    if image.shape[:2] == (height, width):
        return image
    shrinking = height * width < image.shape[0] * image.shape[1]
    how = cv2.INTER_AREA if shrinking else (cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR)
    return cv2.resize(image, (width, height), interpolation=how)


def as_rgb(grey: np.ndarray, height: int, width: int) -> np.ndarray:
    """A grey map in 0..255 (any float or int dtype) as the RGB uint8 control
    image of the layer's size."""
    grey = resized(np.asarray(grey, np.float32), height, width)
    grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def tensor(rgb: np.ndarray, device: str, scale: float = 1.0, shift: float = 0.0):
    """An HWC uint8 picture as a 1x3xHxW float tensor, rgb * scale + shift."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(rgb)).to(device=device, dtype=torch.float32)
    return (x * scale + shift).permute(2, 0, 1)[None]
