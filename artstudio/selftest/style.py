"""The style engines' self-test check."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def check_style(folder: Path) -> str:
    """All three engines on a small generated picture."""
    from PIL import Image

    from artstudio.selftest.random_models import save_random_generator
    from artstudio.style import onnx_runtime as rt
    from artstudio.style.transfer import StyleOptions, stylize

    h, w = 72, 96
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., 0] = (xx / w * 255).astype(np.uint8)
    rgba[..., 1] = (yy / h * 255).astype(np.uint8)
    rgba[..., 2] = 128
    rgba[..., 3] = 200
    painting = folder / "painting.png"
    Image.fromarray(255 - rgba[..., :3]).save(painting)
    gan = folder / "painter.pth"
    save_random_generator(gan, n_blocks=6, ngf=8)
    results = {
        "builtin": stylize(rgba, StyleOptions.builtin("3:0.5,frost:0.5")),
        "painting": stylize(rgba, StyleOptions.from_paintings([painting])),
        "cyclegan": stylize(rgba, StyleOptions.cyclegan(gan, device="cpu")),
    }
    for name, out in results.items():
        if out.shape != rgba.shape or not (out[..., 3] == 200).all():
            raise RuntimeError(f"{name}: wrong size or alpha lost")
        change = float(np.abs(out[..., :3].astype(int) - rgba[..., :3]).mean())
        if change < 2:
            raise RuntimeError(f"{name}: the image hardly changed ({change:.1f})")
    device = rt.session_device(rt.session(rt.MULTISTYLE))
    return f"26 styles, painting style and CycleGAN ran at {w}x{h} (onnx on {device})"
