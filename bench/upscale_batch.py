"""Folder upscaling with the built-in networks: `artstudio upscale IN OUT`
against the loop a user would write instead (spandrel forward passes and PIL
saves, one image after the other).

    python bench/upscale_batch.py                          # 24 photos, 2x, 3 rounds
    python bench/upscale_batch.py --count 40 --scale 4 --rounds 5
    python bench/upscale_batch.py --network   # the forward pass alone, NCHW vs channels-last

Both run in a fresh process each, in pairs (ours, theirs, ours, theirs, ...);
prints images per second by wall time and by the process's CPU seconds (its
threads included: the figure other work on a shared machine disturbs least),
the median of the per-round ratios of each (goal: ours >= 1.5x), the load
average, both folders' sizes and how far the two tools' pixels are apart.
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

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from style_batch import photo  # noqa: E402  (the same photo-like pictures)

OURS = (
    "import sys\n"
    "from artstudio.cli import main\n"
    "sys.exit(main(['upscale', *sys.argv[1:]]))\n"
)

# What a user writes with spandrel's README at hand: load, then for each file
# open, convert, one forward pass, clamp, save with PIL's defaults.
THEIRS = '''
import sys
from pathlib import Path
import numpy as np
import torch
from PIL import Image
from spandrel import ModelLoader

src, dst, model_file = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
model = ModelLoader().load_from_file(model_file).eval()
dst.mkdir(parents=True, exist_ok=True)
for path in sorted(src.iterdir()):
    rgb = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    with torch.inference_mode():
        y = model(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()
    Image.fromarray((y * 255 + 0.5).astype(np.uint8)).save(dst / (path.stem + ".png"))
'''


def make_folder(folder: Path, count: int, low: int, high: int) -> float:
    """Photos of low..high px a side (photo() draws 320..1280: resized down)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    megapixels = 0.0
    for i in range(count):
        im = photo(i)
        w, h = (int(v) for v in rng.integers(low, high + 1, 2))
        im = im.resize((w, h), Image.Resampling.LANCZOS)
        megapixels += w * h / 1e6
        im.save(folder / f"photo_{i:04d}.jpg", quality=90)
    return megapixels


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) of the child, exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code:
        print(err[-2000:], file=sys.stderr)
    return seconds, usage.ru_utime + usage.ru_stime, code


def compare(ours: Path, theirs: Path) -> str:
    worst, means = 0, []
    for a_path in sorted(ours.glob("*.png")):  # not the batch's settings record
        with Image.open(a_path) as a, Image.open(theirs / a_path.name) as b:
            if a.size != b.size:
                return f"{a_path.name}: sizes differ ({a.size} vs {b.size})"
            d = np.abs(np.asarray(a.convert("RGB"), np.int16)
                       - np.asarray(b.convert("RGB"), np.int16))
            worst, means = max(worst, int(d.max())), [*means, float(d.mean())]
    return f"pixels differ by at most {worst} levels, {np.mean(means):.3f} on average"


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("*.png")) / 1e6


def network_forms(model_file: str, side: int = 480, runs: int = 3) -> None:
    """One forward pass of the network, CPU seconds at one torch thread:
    spandrel's default layout against channels-last, and how far apart."""
    import torch
    from spandrel import ModelLoader

    torch.set_num_threads(1)
    net = ModelLoader().load_from_file(model_file).model.eval()
    x = torch.rand(1, 3, side, side)

    def cpu(run):
        run()
        start = time.process_time()
        for _ in range(runs):
            out = run()
        return (time.process_time() - start) / runs, out

    with torch.no_grad():
        plain, expected = cpu(lambda: net(x))
        net = net.to(memory_format=torch.channels_last)
        xl = x.contiguous(memory_format=torch.channels_last)
        last, got = cpu(lambda: net(xl))
    worst = float((got - expected).abs().max())
    print(f"forward pass at {side}x{side}, 1 thread: NCHW {plain:.2f} s CPU, channels-last "
          f"{last:.2f} s ({plain / last:.2f}x), max difference {worst:.1e}")
    from artstudio.engine.openvino_core import available

    if not available():
        print("OpenVINO: not installed (the fast extra), not measured")
        return
    from artstudio.upscale.openvino_compact import compile_compact, usable

    layout = usable(Path(model_file), "cpu", "auto")
    assert layout, "not a compact file OpenVINO runs"
    rgb = x[0].permute(1, 2, 0).numpy().copy()
    expected = expected.clamp(0, 1)[0].permute(1, 2, 0).numpy()
    for threads in (1, 2):
        ov_model = compile_compact(Path(model_file), layout, threads)
        ov_cpu, ov_out = cpu(lambda m=ov_model: m.run(rgb))
        print(f"OpenVINO, {threads} thread(s): {ov_cpu:.2f} s CPU ({plain / ov_cpu:.2f}x the "
              f"NCHW pass), max difference {float(abs(ov_out - expected).max()):.1e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, choices=[2, 4], default=2)
    parser.add_argument("--min-side", type=int, default=256)
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--network", action="store_true",
                        help="only time the network's forward pass in its two memory layouts")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from artstudio.upscale.builtin import builtin_model_path

    model = str(builtin_model_path(args.scale))
    if args.network:
        network_forms(model)
        return 0
    with tempfile.TemporaryDirectory(prefix="upscale-bench-") as tmp:
        tmp = Path(tmp)
        mp = make_folder(tmp / "in", args.count, args.min_side, args.max_side)
        print(f"{args.count} photos, {mp:.1f} megapixels in, {args.scale}x with "
              f"{Path(model).name}, {os.cpu_count()} CPU cores, {args.rounds} paired rounds")
        ours_cmd = [sys.executable, "-c", OURS, str(tmp / "in"), str(tmp / "o"),
                    "--scale", str(args.scale), "--overwrite"]
        theirs_cmd = [sys.executable, "-c", THEIRS, str(tmp / "in"), str(tmp / "t"), model]
        rows = []
        for r in range(args.rounds):
            load = os.getloadavg()[0]
            a, a_cpu, code = timed(ours_cmd)
            assert code == 0, f"our batch failed ({code})"
            b, b_cpu, code = timed(theirs_cmd)
            assert code == 0, f"the plain loop failed ({code})"
            rows.append((a, a_cpu, b, b_cpu))
            print(f"  round {r + 1} (load {load:.1f}): ours {a:5.1f} s wall, {a_cpu:5.1f} s CPU;"
                  f" plain loop {b:5.1f} s wall, {b_cpu:5.1f} s CPU; ratio {b / a:.2f}x wall, "
                  f"{b_cpu / a_cpu:.2f}x CPU")
        sizes = (f"PNGs: ours {folder_mb(tmp / 'o'):.1f} MB, "
                 f"plain loop {folder_mb(tmp / 't'):.1f} MB")
        pixels = compare(tmp / "o", tmp / "t")
    med = statistics.median
    n = args.count
    print(f"ours:       {n / med(r[0] for r in rows):5.2f} img/s wall, "
          f"{n / med(r[1] for r in rows):5.2f} img per CPU second")
    print(f"plain loop: {n / med(r[2] for r in rows):5.2f} img/s wall, "
          f"{n / med(r[3] for r in rows):5.2f} img per CPU second")
    print(f"ratio:      median {med(r[2] / r[0] for r in rows):.2f}x wall, "
          f"{med(r[3] / r[1] for r in rows):.2f}x CPU (goal >= 1.5x)")
    print(sizes)
    print(pixels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
