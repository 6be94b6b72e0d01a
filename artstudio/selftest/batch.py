"""The batch machinery's self-test check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def check_batch(folder: Path) -> str:
    """A three-file folder (one of them corrupt) through the pipeline with an
    inverting function: two written, one failure reported, a rerun resumes."""
    from artstudio.batch import BatchSettings, plan_batch, run_batch

    src, out = folder / "in", folder / "out"
    (src / "sub").mkdir(parents=True, exist_ok=True)
    pixels = np.full((24, 32, 3), 90, np.uint8)
    Image.fromarray(pixels).save(src / "a.png")
    Image.fromarray(pixels).save(src / "sub" / "b.jpg")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")

    def invert(rgba: np.ndarray) -> np.ndarray:
        inv = rgba.copy()
        inv[..., :3] = 255 - inv[..., :3]
        return inv

    plan = plan_batch(src, out, recursive=True, fmt="png")
    first = run_batch(plan.items, invert, BatchSettings(), skipped=plan.skipped)
    if len(first.written) != 2 or len(first.failed) != 1:
        raise RuntimeError(f"unexpected first run: {first.summary()}")
    if not (out / "sub" / "b.png").is_file():
        raise RuntimeError("the subfolder structure was not kept")
    second = run_batch(plan.items, invert, BatchSettings(), skipped=plan.skipped)
    if len(second.already_done) != 2 or second.written:
        raise RuntimeError("a second run did not resume")
    return "3 files: 2 written, 1 corrupt reported, rerun resumed"
