"""The latent-interpolation self-test check."""

from __future__ import annotations

import time
from pathlib import Path

FRAMES = 3
SIDE = 64


def check_interpolation(folder: Path) -> str:
    """A 3-frame seed journey with a tiny random SD1 pipeline, exported as a
    GIF and read back: the frame count and size must be what was asked.
    Proves the journey, the sampler and the GIF writer work on this machine
    (the GIF is written by our own encoder, so no FFmpeg is involved)."""
    from PIL import Image

    from artstudio.diffusion.params import GenerationParams
    from artstudio.interpolation.export import export_frames
    from artstudio.interpolation.journey import JourneyPlan
    from artstudio.interpolation.travel import FrameStream
    from artstudio.selftest.random_models import save_random_sd1

    start = time.perf_counter()
    folder = Path(folder)
    model = save_random_sd1(folder / "random-sd1")
    # No guidance (cfg 1): one UNet pass per frame and step instead of two, as
    # the check proves the journey and the writer, not the pictures.
    generation = GenerationParams(model=str(model), steps=2, cfg_scale=1.0, width=SIDE,
                                  height=SIDE, device="cpu", preview_every=0)
    plan = JourneyPlan(generation, prompts=("a red cat",), seeds=(1, 2), frames=FRAMES)
    out = folder / "journey.gif"
    report = export_frames(FrameStream(plan), out, fps=12)
    if report.cancelled or report.frames != FRAMES:
        raise RuntimeError(f"the journey made {report.frames} of {FRAMES} frames")
    with Image.open(out) as gif:
        count, size = gif.n_frames, gif.size
    if count != FRAMES or size != (SIDE, SIDE):
        raise RuntimeError(f"the GIF holds {count} frames of {size[0]}x{size[1]}, "
                           f"not {FRAMES} of {SIDE}x{SIDE}")
    return (f"a {FRAMES}-frame seed journey with a tiny SD1 pipeline, written as a "
            f"{SIDE}x{SIDE} GIF and read back, in {time.perf_counter() - start:.1f} s")
