"""Tiled against one whole forward pass on the same image and model, in one run:
the overhead ratio of tiling (goal: at most 1.15), median of interleaved runs.

The model is a randomly initialised compact SRVGG x4 network (the shape of
Real-ESRGAN's compact models) at its published width (64 features, 16 convs):
speed depends on the architecture, not on the weights.

    python bench/upscale.py [--size 384] [--tile 192] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--tile", type=int, default=192)
    ap.add_argument("--overlap", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    from artstudio.selftest.random_models import save_random_compact
    from artstudio.upscale.tiler import upscale_array
    from artstudio.upscale.upscaling import load_upscaler

    with tempfile.TemporaryDirectory() as tmp:
        path = save_random_compact(Path(tmp) / "compact-x4.pth", 4, num_feat=64, num_conv=16)
        model = load_upscaler(path, "cpu")
        rng = np.random.default_rng(0)
        rgb = rng.random((args.size, args.size, 3), dtype=np.float32)
        upscale_array(model, rgb[:64, :64], tile=1024)  # warm-up
        ratios, whole_times, tiled_times = [], [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            whole = upscale_array(model, rgb, tile=args.size + 1)
            whole_t = time.perf_counter() - t
            t = time.perf_counter()
            tiled = upscale_array(model, rgb, tile=args.tile, overlap=args.overlap)
            tiled_t = time.perf_counter() - t
            whole_times.append(whole_t)
            tiled_times.append(tiled_t)
            ratios.append(tiled_t / whole_t)
        worst = float(np.abs(whole.astype(int) - tiled.astype(int)).max())
    print(f"upscale_tiling_overhead ratio={statistics.median(ratios):.3f} "
          f"(whole {statistics.median(whole_times):.2f} s, tiled "
          f"{statistics.median(tiled_times):.2f} s; {args.size}px x4, tile {args.tile}, "
          f"overlap {args.overlap}; max difference {worst:.1f} levels)")


if __name__ == "__main__":
    main()
