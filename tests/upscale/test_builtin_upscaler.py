"""The built-in upscalers shipped in models/: intact, loadable through the
same spandrel path as any downloaded model (on the CPU they run through
OpenVINO when it is installed: test_openvino_compact.py), and better than
bicubic and Lanczos on a held-out photograph."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artstudio.upscale import builtin
from artstudio.upscale import upscaling as up
from artstudio.upscale.spandrel_models import load_spandrel

MODELS = builtin.builtin_models_dir()
MANIFEST = json.loads((MODELS / "manifest.json").read_text())["models"]


DATA = Path(__file__).parent / "data"


def photo() -> np.ndarray:
    """A held-out photograph (see data/README.md)."""
    with Image.open(DATA / "coffee-crop.png") as image:
        return np.asarray(image.convert("RGB"))


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
    model = load_spandrel(path, "cpu")  # as any downloaded model (on a GPU, the way it runs)
    assert model.scale == scale
    assert model.descriptor.architecture.name == "RealESRGAN Compact"
    assert sum(p.numel() for p in model.descriptor.model.parameters()) == entry["parameters"]
    assert builtin.builtin_model_path(scale) == path


# On hard-edged flat drawings the networks are level with Lanczos at best
# (docs/upscale.md), so only the photograph has a bar to clear.
@pytest.mark.parametrize("scale,picture,least_gain", [(2, photo, 0.5), (4, photo, 0.3)])
def test_beats_bicubic_and_lanczos_on_unseen_pictures(scale, picture, least_gain):
    hr = picture()
    size = (hr.shape[1] // scale, hr.shape[0] // scale)
    lr = np.asarray(Image.fromarray(hr).resize(size, Image.Resampling.BICUBIC))
    rgba = np.dstack([lr, np.full(lr.shape[:2], 255, np.uint8)])
    ours = up.upscale(rgba, up.UpscaleOptions(model=builtin.BUILTIN, scale=scale, device="cpu"))
    assert ours.shape == (*hr.shape[:2], 4)
    bicubic = np.asarray(Image.fromarray(lr).resize(hr.shape[1::-1], Image.Resampling.BICUBIC))
    lanczos = np.asarray(Image.fromarray(lr).resize(hr.shape[1::-1], Image.Resampling.LANCZOS))
    gain = psnr(ours, hr, scale) - max(psnr(bicubic, hr, scale), psnr(lanczos, hr, scale))
    assert gain > least_gain, f"{gain:+.2f} dB over the best classical resampling"


def test_a_damaged_installation_is_reported(tmp_path, monkeypatch):
    for item in MODELS.iterdir():
        shutil.copy(item, tmp_path / item.name)
    monkeypatch.setenv("ARTSTUDIO_BUILTIN_MODELS", str(tmp_path))
    assert builtin.verify_builtin_models() == []
    damaged = tmp_path / "builtin-upscaler-x2.safetensors"
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF
    damaged.write_bytes(bytes(data))
    (tmp_path / "builtin-upscaler-x4.safetensors").unlink()
    problems = builtin.verify_builtin_models()
    assert any("x2" in p and "sha256" in p for p in problems)
    assert any("x4" in p and "missing" in p for p in problems)
