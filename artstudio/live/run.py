"""The live job: image-to-image of the frame at the model's own size.

A frame larger (or smaller) than the model was trained for is scaled so its
longer side is the model's, worked there and scaled back to the frame, as
inpainting's "only the masked area" does, so a big canvas stays as quick to
follow as a small one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from artstudio.diffusion import generate
from artstudio.diffusion.masking import fit_to_resolution, to_rgb_array
from artstudio.diffusion.params import GenerationParams, GenerationResult
from artstudio.diffusion.sampling import to_pil
from artstudio.document.compose import over_white
from artstudio.engine.cancel import CancelToken


def _resize(image, size: tuple[int, int]):
    from PIL import Image

    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def _rgb(image) -> np.ndarray:
    """The frame as the model sees it: an RGBA copy of the composite is
    flattened over white here, on the worker, not on the brush's thread."""
    if isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 4:
        return over_white(image)
    return to_rgb_array(image)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 2


@contextmanager
def leave_a_core(device: str) -> Iterator[None]:
    """On the CPU a live run leaves one core to the brush and the window.
    Measured on 2 busy cores with the tiny model: torch on both took 18-23 s
    a run (its threads wait on each other), on one 3.1-3.4 s."""
    if device != "cpu":
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, _cores() - 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def live_run(params: GenerationParams, progress, cancel: CancelToken) -> GenerationResult:
    """One live picture of `params.init_image`, returned at its size."""
    model = generate.checked_model(params, progress, cancel)
    picture = to_pil(_rgb(params.init_image))
    frame_size = picture.size
    work = fit_to_resolution(*frame_size, model.native_size,
                             model.family_spec.latent.size_multiple)
    # The model cache hands the same loaded model to generate.run: no second load.
    with leave_a_core(model.device.device):
        result = generate.run(replace(params, init_image=_resize(picture, work), width=work[0],
                                      height=work[1], count=1), progress, cancel)
    result.images = [_resize(image.convert("RGB"), frame_size) for image in result.images]
    return result
