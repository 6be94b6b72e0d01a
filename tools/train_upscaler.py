"""Train the built-in upscalers (models/builtin-upscaler-x2 / -x4) and measure them.

Reproduces the shipped files from natural photos that Python packages ship in
their wheels: scikit-image's sample data for training; scikit-learn's two
sample photos, matplotlib's portrait and one scikit-image photo held out for
the PSNR table. The wheels are fetched with `pip download --no-deps` (pinned
versions, nothing installed) and every image is checked against its sha256,
so the same data goes in on every machine.

    python tools/train_upscaler.py --scale 2            # train, save, evaluate
    python tools/train_upscaler.py --scale 2 --evaluate  # the table only

The network is Real-ESRGAN's compact SRVGG architecture, saved as a plain
safetensors state dict: the app loads it through spandrel exactly like a
downloaded model. Degradation is a Pillow bicubic downscale, which is what the
table compares against (bicubic and Lanczos from the same low-resolution
image). Training is deterministic on the CPU for a given thread count.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODELS = ROOT / "artstudio" / "data" / "models"

WHEELS = {
    "scikit-image": "0.26.0",
    "scikit-learn": "1.9.1",
    "matplotlib": "3.11.2",
}
# (wheel project, member path). Only images whose licence is stated as public
# domain or CC0 train the network (scikit-image's docstrings say so for each);
# the held-out photos are only measured (scikit-learn's two are CC BY 2.0).
TRAIN = [
    ("scikit-image", "skimage/data/astronaut.png"),
    ("scikit-image", "skimage/data/chelsea.png"),
    ("scikit-image", "skimage/data/rocket.jpg"),
    ("scikit-image", "skimage/data/hubble_deep_field.jpg"),
    ("scikit-image", "skimage/data/brick.png"),
    ("scikit-image", "skimage/data/grass.png"),
    ("scikit-image", "skimage/data/gravel.png"),
    ("scikit-image", "skimage/data/camera.png"),
    ("scikit-image", "skimage/data/coins.png"),
    ("scikit-image", "skimage/data/retina.jpg"),
]
HELD_OUT = [
    ("scikit-learn", "sklearn/datasets/images/china.jpg"),
    ("scikit-learn", "sklearn/datasets/images/flower.jpg"),
    ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
    ("scikit-image", "skimage/data/coffee.png"),
]
NUM_FEAT = 48
NUM_CONV = 10
# Drawn pictures the script makes itself (digital-art-like: gradients, flat
# fills, anti-aliased hard edges, strokes, lettering, canvas grain). Trained on
# photos alone, the network rang at hard straight edges and lost to Lanczos on
# flat illustration by up to 4 dB; these teach it that content too.
DRAWN_TRAIN = (16, 1000)  # (count, first seed)
DRAWN_HELD_OUT = (4, 9000)
DRAWN_SIDE = 512


def fetch_images(cache: Path, members: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    """RGB uint8 arrays of the listed wheel members, downloading wheels once.
    A file whose sha256 differs from the one the manifest recorded stops the
    run: the data would not be the data the shipped model was trained on."""
    cache.mkdir(parents=True, exist_ok=True)
    recorded = _recorded_data_hashes()
    images = {}
    for project, member in members:
        wheel = _wheel(cache, project)
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(member)
        digest = hashlib.sha256(data).hexdigest()
        DATA_SHA256[member] = digest
        if recorded.get(member, digest) != digest:
            sys.exit(f"{member} from {wheel.name} has sha256 {digest}, "
                     f"not {recorded[member]} as models/manifest.json records")
        with Image.open(io.BytesIO(data)) as im:
            images[member] = np.asarray(im.convert("RGB"))
        images[member].flags.writeable = False
    return images


DATA_SHA256: dict[str, str] = {}


def _recorded_data_hashes() -> dict[str, str]:
    manifest = MODELS / "manifest.json"
    if not manifest.is_file():
        return {}
    found: dict[str, str] = {}
    for entry in json.loads(manifest.read_text()).get("models", {}).values():
        for item in entry.get("data", {}).get("files", []):
            found[item["file"]] = item["sha256"]
    return found


def _wheel(cache: Path, project: str) -> Path:
    pattern = project.replace("-", "_") + "-" + WHEELS[project] + "-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                        f"{project}=={WHEELS[project]}", "-d", str(cache)], check=True)
        found = sorted(cache.glob(pattern))
    return found[0]


def drawn_picture(seed: int, side: int = DRAWN_SIDE) -> np.ndarray:
    """One procedurally drawn picture, drawn at 4x and reduced (anti-aliased)."""
    from PIL import ImageDraw, ImageFilter, ImageFont

    rng = np.random.default_rng(seed)
    big = side * 4
    yy, xx = np.mgrid[0:big, 0:big].astype(np.float32) / big
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    angle = rng.uniform(0, np.pi)
    t = (np.cos(angle) * xx + np.sin(angle) * yy)[..., None]
    image = Image.fromarray(np.clip(a * (1 - t) + b * t, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)

    def colour() -> tuple[int, ...]:
        return tuple(int(c) for c in rng.integers(0, 256, 3))

    for _ in range(int(rng.integers(6, 20))):
        x0, y0 = (int(v) for v in rng.integers(-big // 8, big, 2))
        w, h = (int(v) for v in rng.integers(big // 40, big // 3, 2))
        kind = rng.integers(0, 4)
        box = (x0, y0, x0 + w, y0 + h)
        if kind == 0:
            draw.ellipse(box, fill=colour(), outline=colour(), width=int(rng.integers(0, 24)))
        elif kind == 1:
            draw.rectangle(box, fill=colour())
        elif kind == 2:
            points = [tuple(int(v) for v in rng.integers(0, big, 2)) for _ in range(3)]
            draw.polygon(points, fill=colour())
        else:  # a brush stroke: a thick polyline with round joints
            points = [tuple(int(v) for v in rng.integers(0, big, 2)) for _ in range(4)]
            draw.line(points, fill=colour(), width=int(rng.integers(4, 60)), joint="curve")
    for _ in range(int(rng.integers(0, 3))):
        font = ImageFont.load_default(size=int(rng.integers(40, 240)))
        text = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(3, 9))))
        draw.text(tuple(int(v) for v in rng.integers(0, big // 2, 2)), text, fill=colour(),
                  font=font)
    image = image.resize((side, side), Image.Resampling.LANCZOS)
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.0))))
    pixels = np.asarray(image, np.float32)
    if rng.random() < 0.4:  # canvas or paper grain
        pixels = pixels + rng.normal(0, rng.uniform(1, 6), pixels.shape)
    return np.clip(pixels + 0.5, 0, 255).astype(np.uint8)


def drawn_images(count_and_seed: tuple[int, int]) -> dict[str, np.ndarray]:
    count, first = count_and_seed
    return {f"drawn-{seed}": drawn_picture(seed) for seed in range(first, first + count)}


def downscale(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Crop to a multiple of the scale and make the bicubic low-resolution image."""
    h, w = hr.shape[0] // scale * scale, hr.shape[1] // scale * scale
    hr = hr[:h, :w]
    lr = Image.fromarray(hr).resize((w // scale, h // scale), Image.Resampling.BICUBIC)
    return hr, np.asarray(lr)


def train(scale: int, steps: int, batch: int, patch: int, threads: int, seed: int,
          images: dict[str, np.ndarray], log=print, loss_name: str = "l1",
          init: Path | None = None, learning_rate: float = 5e-4, skip_flat: bool = False):
    import torch
    import torch.nn.functional as F
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    pairs = []
    for hr in images.values():
        hr, lr = downscale(hr, scale)
        pairs.append((torch.from_numpy(lr.copy()).permute(2, 0, 1).float() / 255,
                      torch.from_numpy(hr.copy()).permute(2, 0, 1).float() / 255))
    # Larger photos give more patches: sample images by area.
    areas = np.array([lr.shape[1] * lr.shape[2] for lr, _ in pairs], np.float64)
    prob = areas / areas.sum()
    net = Compact(num_feat=NUM_FEAT, num_conv=NUM_CONV, upscale=scale)
    if init is not None:
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(init)))
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)  # 2e-3 diverged after ~300 steps
    warmup = max(1, steps // 50)
    sched = torch.optim.lr_scheduler.LambdaLR(  # short warm-up, then a cosine to zero
        opt, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * i / steps)))
    started = time.perf_counter()
    running = 0.0
    for step in range(1, steps + 1):
        xs, ys = [], []
        for index in rng.choice(len(pairs), size=batch, p=prob):
            lr, hr = pairs[index]
            for _attempt in range(4 if skip_flat else 1):
                top = int(rng.integers(0, lr.shape[1] - patch + 1))
                left = int(rng.integers(0, lr.shape[2] - patch + 1))
                x = lr[:, top:top + patch, left:left + patch]
                # Flat patches teach little: in fine-tuning, mostly draw again.
                if not skip_flat or float(x.std()) > 0.04 or rng.random() < 0.2:
                    break
            y = hr[:, top * scale:(top + patch) * scale, left * scale:(left + patch) * scale]
            k = int(rng.integers(0, 8))  # the 8 flips and rotations
            if k & 4:
                x, y = x.flip(2), y.flip(2)
            x, y = torch.rot90(x, k & 3, (1, 2)), torch.rot90(y, k & 3, (1, 2))
            xs.append(x)
            ys.append(y)
        x, y = torch.stack(xs), torch.stack(ys)
        loss = (F.mse_loss if loss_name == "l2" else F.l1_loss)(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 100 == 0 or step == steps:
            rate = step / (time.perf_counter() - started)
            log(f"step {step}/{steps}  {loss_name} {running:.5f}  {rate:.1f} steps/s")
    return net.eval()


def psnr(a: np.ndarray, b: np.ndarray, border: int) -> float:
    a = a[border:-border, border:-border].astype(np.float64)
    b = b[border:-border, border:-border].astype(np.float64)
    mse = float(np.mean((a - b) ** 2))
    return 10 * math.log10(255 ** 2 / max(mse, 1e-10))


def evaluate(model_path: Path, scale: int, images: dict[str, np.ndarray]) -> list[dict]:
    """PSNR (RGB, a border of `scale` pixels left out) of the model loaded
    through the app's own upscale path, against bicubic and Lanczos."""
    from artstudio.upscale.tiler import upscale_array
    from artstudio.upscale.upscaling import load_upscaler

    model = load_upscaler(model_path, device="cpu", precision="float32")
    rows = []
    for name, hr_full in images.items():
        hr, lr = downscale(hr_full, scale)
        size = (hr.shape[1], hr.shape[0])
        ours = upscale_array(model, lr.astype(np.float32) / 255)
        bicubic = np.asarray(Image.fromarray(lr).resize(size, Image.Resampling.BICUBIC))
        lanczos = np.asarray(Image.fromarray(lr).resize(size, Image.Resampling.LANCZOS))
        rows.append({"image": name.rsplit("/", 1)[-1],
                     "size": f"{hr.shape[1]}x{hr.shape[0]}",
                     "bicubic": round(psnr(bicubic, hr, scale), 2),
                     "lanczos": round(psnr(lanczos, hr, scale), 2),
                     "builtin": round(psnr(ours, hr, scale), 2)})
    mean = {key: round(float(np.mean([r[key] for r in rows])), 2)
            for key in ("bicubic", "lanczos", "builtin")}
    rows.append({"image": "mean", "size": "", **mean})
    return rows


def table(rows: list[dict], scale: int) -> str:
    lines = [f"| {scale}x, PSNR dB (RGB) | size | bicubic | Lanczos | built-in | gain over best |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        gain = r["builtin"] - max(r["bicubic"], r["lanczos"])
        lines.append(f"| {r['image']} | {r['size']} | {r['bicubic']:.2f} | {r['lanczos']:.2f} "
                     f"| {r['builtin']:.2f} | {gain:+.2f} |")
    return "\n".join(lines)


def save(net, path: Path) -> str:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(path), metadata={"architecture": "SRVGGNetCompact",
                                           "trained_by": "tools/train_upscaler.py"})
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, choices=(2, 4), required=True)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, help="low-resolution patch side (48 at 2x, 32 at 4x)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "sr-data")
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument("--evaluate", action="store_true", help="only measure the saved model")
    parser.add_argument("--finetune-steps", type=int, default=800)
    parser.add_argument("--stage1", type=Path,
                        help="reuse stage-1 weights saved by an earlier run (skips stage 1)")
    args = parser.parse_args(argv)

    model_path = args.out / f"builtin-upscaler-x{args.scale}.safetensors"
    held_out = fetch_images(args.cache, HELD_OUT)
    if not args.evaluate:
        train_images = {**fetch_images(args.cache, TRAIN), **drawn_images(DRAWN_TRAIN)}
        started = time.perf_counter()
        patch = args.patch or (48 if args.scale == 2 else 32)
        stage1 = args.stage1 or args.cache / f"stage1-x{args.scale}.safetensors"
        if args.stage1 is None:
            # Stage 1: L1 from random weights, patches drawn uniformly.
            net = train(args.scale, args.steps, args.batch, patch, args.threads, args.seed,
                        train_images)
            print(f"stage 1 saved to {stage1} (sha256 {save(net, stage1)})")
        # Stage 2: mean squared error (what PSNR measures) at a lower rate, with
        # flat patches mostly skipped. L1 alone left 2 px steps from the
        # network's nearest-neighbour base at hard edges: 1 dB under Lanczos on
        # drawn pictures.
        net = train(args.scale, args.finetune_steps, args.batch, patch, args.threads,
                    args.seed, train_images, loss_name="l2", init=stage1,
                    learning_rate=2e-4, skip_flat=True)
        minutes = (time.perf_counter() - started) / 60
        digest = save(net, model_path)
        print(f"saved {model_path} ({model_path.stat().st_size} bytes, sha256 {digest}) "
              f"after {minutes:.1f} min")
    else:
        fetch_images(args.cache, TRAIN)  # for the manifest's data hashes
    rows = evaluate(model_path, args.scale, held_out)
    drawn_rows = evaluate(model_path, args.scale, drawn_images(DRAWN_HELD_OUT))
    print(table(rows, args.scale))
    print()
    print(table(drawn_rows, args.scale))
    if args.out == MODELS:
        write_manifest(model_path, args, rows, drawn_rows)
    return 0


def write_manifest(model_path: Path, args: argparse.Namespace, rows: list[dict],
                   drawn_rows: list[dict]) -> None:
    """models/manifest.json: where each shipped network comes from."""
    from safetensors import safe_open

    manifest_path = args.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest.setdefault("about", "Networks shipped in models/, all trained by this project.")
    with safe_open(str(model_path), "np") as f:
        params = sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())  # noqa: SIM118 (not iterable)
    patch = args.patch or (48 if args.scale == 2 else 32)
    files = [{"file": member, "package": f"{project}=={WHEELS[project]}",
              "sha256": DATA_SHA256[member], "use": use}
             for use, members in (("train", TRAIN), ("held-out", HELD_OUT))
             for project, member in members]
    mean = rows[-1]
    manifest.setdefault("models", {})[model_path.name] = {
        "task": f"{args.scale}x single-image super-resolution",
        "architecture": f"SRVGGNetCompact (Real-ESRGAN's compact network), num_feat "
                        f"{NUM_FEAT}, num_conv {NUM_CONV}, PReLU; loaded through spandrel",
        "parameters": params,
        "bytes": model_path.stat().st_size,
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "origin": "Trained from random initialisation by tools/train_upscaler.py in this "
                  "repository; no other network's weights are involved.",
        "training_command": f"python tools/train_upscaler.py --scale {args.scale} --steps "
                            f"{args.steps} --finetune-steps {args.finetune_steps} --batch "
                            f"{args.batch} --patch {patch} --threads {args.threads} --seed "
                            f"{args.seed}",
        "training": "stage 1: L1 loss from random weights, Adam 5e-4 with warm-up and "
                    "cosine decay, uniform patches; stage 2: mean squared error from stage "
                    "1, Adam 2e-4, flat patches mostly skipped; 8 flips/rotations",
        "degradation": "Pillow bicubic downscale (the table compares against bicubic and "
                       "Lanczos upscales of the same low-resolution images)",
        "data": {
            "source": "sample photographs inside the wheels of scikit-image, scikit-learn "
                      "and matplotlib (fetched with pip download --no-deps, not installed), "
                      f"and {DRAWN_TRAIN[0]} pictures drawn by the script (seeds "
                      f"{DRAWN_TRAIN[1]}..; {DRAWN_HELD_OUT[0]} more, seeds "
                      f"{DRAWN_HELD_OUT[1]}.., held out)",
            "licences": "training images: public domain or CC0 per scikit-image's "
                        "documentation; held-out: china.jpg and flower.jpg CC BY 2.0 "
                        "(scikit-learn), grace_hopper.jpg public domain (matplotlib), "
                        "coffee.png CC0 (scikit-image)",
            "files": files,
        },
        "licence": "GPL-3.0-or-later, as Artstudio",
        "held_out_psnr_db": {k: mean[k] for k in ("bicubic", "lanczos", "builtin")},
        "held_out_drawn_psnr_db": {k: drawn_rows[-1][k]
                                   for k in ("bicubic", "lanczos", "builtin")},
    }
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"updated {manifest_path}")


if __name__ == "__main__":
    raise SystemExit(main())
