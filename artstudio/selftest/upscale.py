"""The upscalers' self-test check."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def check_upscale(folder: Path) -> str:
    """The built-in networks are intact and run; a random compact model saved
    as a user would have it loads safely and gives the same result tiled (with
    a simulated tight tile) and whole."""
    from artstudio.selftest.random_models import save_random_compact
    from artstudio.upscale.builtin import BUILTIN, verify_builtin_models
    from artstudio.upscale.upscaling import UpscaleOptions, upscale

    problems = verify_builtin_models()
    if problems:
        raise RuntimeError("; ".join(problems))
    rgba = np.zeros((40, 56, 4), np.uint8)
    rgba[..., 0] = np.arange(56, dtype=np.uint8)[None, :] * 4
    rgba[..., 3] = 255
    builtin = upscale(rgba, UpscaleOptions(model=BUILTIN, scale=4, device="cpu"))
    if builtin.shape != (160, 224, 4):
        raise RuntimeError(f"the built-in model gave {builtin.shape}")
    path = save_random_compact(folder / "compact-x2.pth")
    whole = upscale(rgba, UpscaleOptions(model=str(path), tile=256, device="cpu"))
    tiled = upscale(rgba, UpscaleOptions(model=str(path), tile=32, overlap=8, device="cpu"))
    if whole.shape != (80, 112, 4):
        raise RuntimeError(f"wrong output size {whole.shape}")
    worst = int(np.abs(whole.astype(int) - tiled.astype(int)).max())
    if worst > 4:
        raise RuntimeError(f"tiles show seams ({worst} levels)")
    return (f"built-in 2x/4x networks intact; spandrel compact x2 ran whole and in tiles "
            f"(max difference {worst} levels)")
