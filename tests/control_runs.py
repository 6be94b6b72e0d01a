"""The generation request and pixel read-out the control and reference tests
share: a 64 px, 3-step run of a tiny model on the CPU, seed 7."""

from __future__ import annotations

import numpy as np

from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams


def control_params(model, **kw) -> GenerationParams:
    base = dict(model=str(model), prompt="a red cat", steps=3, width=64, height=64, seed=7,
                device="cpu", preview_every=0)
    base.update(kw)
    return GenerationParams(**base)


def pixels(p, no_progress, token) -> np.ndarray:
    return np.asarray(run(p, no_progress, token).images[0]).astype(int)
