"""The built-in upscalers shipped in models/: intact, loaded through the same
spandrel path as any downloaded model, and better than bicubic and Lanczos on
a picture they never saw (a drawn scene, unlike the photos they learnt from)."""

from __future__ import annotations

import hashlib
import json
import math
import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from artstudio.generators import upscale as up

MODELS = up.builtin_models_dir()
MANIFEST = json.loads((MODELS / "manifest.json").read_text())["models"]


def scene(side: int = 192) -> np.ndarray:
    """Shapes, lines and a gradient, softened like a lens would, plus grain."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    base = np.stack([xx / side * 180 + 40, yy / side * 120 + 60, 200 - xx / side * 90], -1)
    image = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x0, y0 = (int(v) for v in rng.integers(0, side - 20, 2))
        x1, y1 = x0 + int(rng.integers(10, 80)), y0 + int(rng.integers(10, 80))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    for _ in range(10):
        points = [tuple(int(v) for v in rng.integers(0, side, 2)) for _ in range(2)]
        draw.line(points, fill=tuple(int(c) for c in rng.integers(0, 255, 3)), width=2)
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    grain = np.asarray(image, np.float32) + rng.normal(0, 3, (side, side, 3))
    return grain.clip(0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray, border: int) -> float:
    a = a[border:-border, border:-border, :3].astype(np.float64)
    b = b[border:-border, border:-border, :3].astype(np.float64)
    return 10 * math.log10(255 ** 2 / np.mean((a - b) ** 2))


@pytest.mark.parametrize("scale", [2, 4])
def test_shipped_file_matches_its_manifest_and_loads_through_spandrel(scale):
    name = f"builtin-upscaler-x{scale}.safetensors"
    path = MODELS / name
    entry = MANIFEST[name]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert path.stat().st_size == entry["bytes"] < 4 * 1024 * 1024  # "a few MB at most"
    assert "tools/train_upscaler.py" in entry["training_command"]
    assert all(len(f["sha256"]) == 64 for f in entry["data"]["files"])
    model = up.load_upscaler(path, "cpu")
    assert model.scale == scale
    assert model.descriptor.architecture.name == "RealESRGAN Compact"
    assert sum(p.numel() for p in model.descriptor.model.parameters()) == entry["parameters"]
    assert up.builtin_model_path(scale) == path


@pytest.mark.parametrize("scale", [2, 4])
def test_beats_bicubic_and_lanczos_on_an_unseen_picture(scale):
    hr = scene()
    size = (hr.shape[1] // scale, hr.shape[0] // scale)
    lr = np.asarray(Image.fromarray(hr).resize(size, Image.Resampling.BICUBIC))
    rgba = np.dstack([lr, np.full(lr.shape[:2], 255, np.uint8)])
    ours = up.upscale(rgba, up.UpscaleOptions(model=up.BUILTIN, scale=scale, device="cpu"))
    assert ours.shape == (*hr.shape[:2], 4)
    bicubic = np.asarray(Image.fromarray(lr).resize(hr.shape[1::-1], Image.Resampling.BICUBIC))
    lanczos = np.asarray(Image.fromarray(lr).resize(hr.shape[1::-1], Image.Resampling.LANCZOS))
    gain = psnr(ours, hr, scale) - max(psnr(bicubic, hr, scale), psnr(lanczos, hr, scale))
    assert gain > 0.3, f"only {gain:.2f} dB better than the best classical resampling"


def test_a_damaged_installation_is_reported(tmp_path, monkeypatch):
    for item in MODELS.iterdir():
        shutil.copy(item, tmp_path / item.name)
    monkeypatch.setenv("ARTSTUDIO_BUILTIN_MODELS", str(tmp_path))
    assert up.verify_builtin_models() == []
    damaged = tmp_path / "builtin-upscaler-x2.safetensors"
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    (tmp_path / "builtin-upscaler-x4.safetensors").unlink()
    problems = up.verify_builtin_models()
    assert any("x2" in p and "sha256" in p for p in problems)
    assert any("x4" in p and "missing" in p for p in problems)
