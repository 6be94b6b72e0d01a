"""What the tests of the newer families share: a quiet generation run, a noise
picture, pixels as integers."""

from __future__ import annotations

import numpy as np
from PIL import Image

from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import CancelToken


def generate(p: GenerationParams):
    return run(p, lambda *a, **k: None, CancelToken())


def noise(w: int = 64, h: int = 64, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def pixels(image) -> np.ndarray:
    return np.asarray(image).astype(int)
