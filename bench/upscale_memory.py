"""Peak memory of `artstudio upscale` at 4x for 1024, 2048 and 4096 px inputs
(results of 4096, 8192 and 16384 px), each in a fresh process: it should stay
about flat as the input grows, because rows are blended in a capped band and
streamed into the PNG as they are finished.

    python bench/upscale_memory.py [--sizes 1024 2048 4096]

The model is a small randomly initialised compact SRVGG x4 network: memory
here is about the image path, and its activations per tile are the same for
every size. Prints the peak RSS per size and the ratio of the largest to the
smallest (goal: close to 1; 16x the pixels would be 16).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # reading back a 16384 px result we made ourselves

ROOT = Path(__file__).resolve().parents[1]


def picture(side: int) -> Image.Image:
    rng = np.random.default_rng(side)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    rgb = np.stack([xx / side * 255, yy / side * 255, (xx + yy) / (2 * side) * 255], -1)
    rgb += rng.normal(0, 12, rgb.shape).astype(np.float32)
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    ap.add_argument("--tile", type=int, default=256)
    args = ap.parse_args()

    from artstudio.selftest.random_models import save_random_compact

    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = save_random_compact(folder / "compact-x4.pth", 4, num_feat=16, num_conv=2)
        for side in args.sizes:
            src = folder / f"in-{side}.png"
            picture(side).save(src, compress_level=1)
            out = folder / f"out-{side}.png"
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "main.py", "upscale", str(src), str(out), "--model",
                 str(model), "--tile", str(args.tile), "--device", "cpu"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            _pid, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS
            seconds = time.perf_counter() - start
            errors = proc.stderr.read()
            proc.stderr.close()
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"upscale of {side} px failed:\n{errors[-2000:]}")
            peak_kb = usage.ru_maxrss
            with Image.open(out) as image:
                size = image.size
            peaks[side] = peak_kb / 1024
            print(f"  {side} px -> {size[0]}x{size[1]}: peak {peaks[side]:.0f} MB, "
                  f"{seconds:.0f} s, {out.stat().st_size / 1e6:.0f} MB file", flush=True)
            out.unlink()
    small, large = min(peaks), max(peaks)
    print(f"upscale_peak_memory ratio={peaks[large] / peaks[small]:.2f} "
          f"({large} px vs {small} px at 4x: "
          + ", ".join(f"{s} px {p:.0f} MB" for s, p in peaks.items()) + ")")


if __name__ == "__main__":
    main()
