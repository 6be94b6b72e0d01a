"""Latent interpolation: frames per second batched against one frame per
pipeline call (goal: batched >= 1.5x on the CPU), and the peak memory of a
120-frame journey against a 12-frame one streamed to disk (goal: flat).

The tiny random SD1 model (random_models.save_random_sd1) makes a seed
journey through `interpolation.travel.FrameStream`, model warm, at 64 px,
Euler, CFG 7. Batched and one-at-a-time runs are interleaved (the order
rotates every round) and the figure is the median of the rounds' ratios, so
load from other processes hits both alike. Memory: `artstudio interpolate
--out DIR` in a fresh process per journey length, its own peak RSS.

    python bench/interpolate.py                     # 24 frames, 4 steps, 5 rounds
    python bench/interpolate.py --frames 12 --rounds 3 --batch 8

The last line is the speed ratio, e.g. `1.62x`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def journey_seconds(model: Path, frames: int, steps: int, batch: int) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds): CPU time is what other
    processes on a shared machine disturb least."""
    from artstudio.diffusion.params import GenerationParams
    from artstudio.interpolation.journey import JourneyPlan
    from artstudio.interpolation.travel import FrameStream

    g = GenerationParams(model=str(model), steps=steps, width=64, height=64, scheduler="euler",
                         preview_every=0, device="cpu")
    plan = JourneyPlan(g, prompts=("a lighthouse",), seeds=(1, 2, 3), frames=frames,
                       batch_size=batch)
    start, cpu = time.perf_counter(), time.process_time()
    made = sum(1 for _ in FrameStream(plan))
    assert made == frames
    return time.perf_counter() - start, time.process_time() - cpu


def peak_memory_mb(model: Path, frames: int, out: Path) -> float:
    proc = subprocess.Popen(
        [sys.executable, "main.py", "interpolate", "--model", str(model), "--prompt", "x",
         "--seed", "1", "--seed", "2", "--frames", str(frames), "--steps", "2", "--width",
         "64", "--height", "64", "--device", "cpu", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _pid, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS
    errors = proc.stderr.read()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"interpolate of {frames} frames failed:\n{errors[-2000:]}")
    assert len(list(out.glob("*.png"))) == frames
    return usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=0, help="default: the automatic size")
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()

    from artstudio.interpolation.travel import CPU_BATCH
    from artstudio.selftest.random_models import save_random_sd1

    batch = args.batch or CPU_BATCH
    with tempfile.TemporaryDirectory() as tmp:
        model = save_random_sd1(Path(tmp) / "sd1")
        journey_seconds(model, 4, 2, batch)  # load and warm
        if not args.no_memory:
            peaks = {n: peak_memory_mb(model, n, Path(tmp) / f"out-{n}") for n in (12, 120)}
            print(f"peak memory, streamed to disk: 12 frames {peaks[12]:.0f} MB, 120 frames "
                  f"{peaks[120]:.0f} MB (ratio {peaks[120] / peaks[12]:.2f})", flush=True)
        ratios, cpu_ratios = [], []
        for r in range(args.rounds):
            order = [batch, 1] if r % 2 == 0 else [1, batch]
            times = {b: journey_seconds(model, args.frames, args.steps, b) for b in order}
            ratios.append(times[1][0] / times[batch][0])
            cpu_ratios.append(times[1][1] / times[batch][1])
            print(f"  round {r + 1}: batch {batch} {args.frames / times[batch][0]:.1f} frames/s, "
                  f"one at a time {args.frames / times[1][0]:.1f} frames/s; CPU seconds "
                  f"{times[batch][1]:.1f} against {times[1][1]:.1f}", flush=True)
    print(f"{args.frames} frames, {args.steps} steps, 64 px: batched (batch {batch}) over one "
          f"frame per call, median of {args.rounds} rounds; by CPU time "
          f"{statistics.median(cpu_ratios):.2f}x")
    print(f"{statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
