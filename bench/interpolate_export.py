"""Peak memory of exporting a journey of 12 and of 120 frames (256x256) as a
PNG sequence, GIF, WebP and MP4, each run in a fresh process: it should stay
flat, because frames stream to a temporary PNG sequence on disk and the files
are assembled from it a frame at a time.

    python bench/interpolate_export.py [--frames 12 120] [--side 256]

Each child first exports two frames (so every codec is loaded), then the
journey; "growth" is its peak RSS above that warm-up. For comparison it also
runs Pillow's own animated WebP writer over a list of the frames in memory,
the way the export does not work. The last line is the figure: peak memory
for the most frames over the fewest, the worst format (goal: close to 1).

MP4 grows by about 12 MB from 12 to 120 frames and then stops (360 frames
peak where 120 do): x264 keeps a window of upcoming frames for its rate
control (rc-lookahead, 40 frames at the default preset), a fixed cost.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("seq", "a.gif", "a.webp", "a.mp4")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(name: str, n: int, side: int, folder: Path) -> None:
    import numpy as np
    from PIL import Image

    from artstudio.interpolation.export import export_frames
    from artstudio.interpolation.frames import Frame

    def journey(count: int):
        rng = np.random.default_rng(0)
        a, b = (rng.integers(0, 256, (side, side, 3)).astype(np.float32) for _ in range(2))
        for i in range(count):
            t = i / max(count - 1, 1)
            pixels = (a * (1 - t) + b * t).astype(np.uint8)
            yield Frame(i, Image.fromarray(pixels), {"prompt": "bench", "seed": i, "t": t})

    if name == "pillow-webp":  # the in-memory way, for comparison
        frames = [f.image for f in journey(2)]
        frames[0].save(folder / "warm.webp", save_all=True, append_images=frames[1:])
        base = _peak_mb()
        frames = [f.image for f in journey(n)]
        frames[0].save(folder / "all.webp", save_all=True, append_images=frames[1:], duration=83)
    else:
        export_frames(journey(2), folder / f"warm-{name}")
        base = _peak_mb()
        export_frames(journey(n), folder / name)
    print(json.dumps({"peak": _peak_mb(), "growth": _peak_mb() - base}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, nargs="+", default=[12, 120])
    ap.add_argument("--side", type=int, default=256)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # FORMAT FRAMES FOLDER
    args = ap.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        child(args.child[0], int(args.child[1]), args.side, Path(args.child[2]))
        return
    few, many = min(args.frames), max(args.frames)
    ratios = {}
    for name in (*FORMATS, "pillow-webp"):
        peaks = {}
        for n in (few, many):
            with tempfile.TemporaryDirectory() as tmp:
                proc = subprocess.run(
                    [sys.executable, __file__, "--side", str(args.side),
                     "--child", name, str(n), tmp],
                    cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"{name} with {n} frames failed:\n{proc.stderr[-2000:]}")
            peaks[n] = json.loads(proc.stdout.strip().splitlines()[-1])
        label = "Pillow save_all (not used)" if name == "pillow-webp" else name
        print(f"  {label}: {few} frames peak {peaks[few]['peak']:.0f} MB "
              f"(+{peaks[few]['growth']:.1f}), {many} frames {peaks[many]['peak']:.0f} MB "
              f"(+{peaks[many]['growth']:.1f})", flush=True)
        if name != "pillow-webp":
            ratios[name] = peaks[many]["peak"] / peaks[few]["peak"]
    worst = max(ratios, key=ratios.get)
    print(f"export_peak_memory ratio={ratios[worst]:.2f} ({many} vs {few} frames of "
          f"{args.side}x{args.side}, worst: {worst})")


if __name__ == "__main__":
    main()
