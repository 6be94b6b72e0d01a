"""The diffusion stack's self-test check."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def check_diffusion(folder: Path) -> str:
    """Build a tiny random SD1 pipeline in `folder`, load it through the real
    loader and generate one 64 px image through `run`. Raises on any failure.
    Proves the stack works, not image quality."""
    from artstudio.diffusion.generate import run
    from artstudio.diffusion.params import GenerationParams
    from artstudio.engine.cancel import CancelToken
    from artstudio.selftest.random_models import save_random_sd1

    start = time.perf_counter()
    model = save_random_sd1(Path(folder) / "random-sd1")
    params = GenerationParams(model=str(model), prompt="a red cat", steps=2, width=64,
                              height=64, seed=1, device="cpu", preview_every=0)
    result = run(params, lambda *a, **k: None, CancelToken())
    image = result.images[0]
    if image.size != (64, 64) or image.mode != "RGB":
        raise RuntimeError(f"tiny generation gave {image.size} {image.mode}")
    if not np.isfinite(np.asarray(image)).all():
        raise RuntimeError("tiny generation produced invalid pixels")
    return (f"tiny SD1 pipeline built, loaded and sampled 2 steps at 64x64 in "
            f"{time.perf_counter() - start:.1f} s")


def check_flux(folder: Path) -> str:
    """Build a tiny random FLUX.1 dev pipeline (packed latents, distilled
    guidance, CLIP and T5 encoders) and generate one 64 px image through `run`."""
    from artstudio.diffusion.generate import run
    from artstudio.diffusion.params import GenerationParams
    from artstudio.engine.cancel import CancelToken
    from artstudio.selftest.random_models import save_random_flux

    start = time.perf_counter()
    model = save_random_flux(Path(folder) / "random-flux")
    params = GenerationParams(model=str(model), prompt="a red cat", steps=2, width=64,
                              height=48, seed=1, cfg_scale=3.5, scheduler="flow_euler",
                              device="cpu", preview_every=0)
    result = run(params, lambda *a, **k: None, CancelToken())
    image = np.asarray(result.images[0])
    if image.shape != (48, 64, 3):
        raise RuntimeError(f"tiny FLUX generation gave {image.shape}")
    if image.std() == 0:
        raise RuntimeError("tiny FLUX generation gave a flat picture")
    return (f"tiny FLUX.1 pipeline built, loaded and sampled 2 steps at 64x48 in "
            f"{time.perf_counter() - start:.1f} s")
