"""The built-in networks shipped in models/ (trained by tools/train_upscaler.py)
and the check that they are the bytes models/manifest.json records."""

from __future__ import annotations

import os
from pathlib import Path

from artstudio.engine.errors import UserFacingError
from artstudio.resources import data_folder

BUILTIN = "builtin"  # UpscaleOptions.model for the networks in models/


def builtin_models_dir() -> Path:
    """artstudio/data/models, wherever the app runs from (artstudio.resources)."""
    env = os.environ.get("ARTSTUDIO_BUILTIN_MODELS")
    return Path(env) if env else data_folder("models")


def builtin_model_path(scale: float | None) -> Path:
    """The built-in network for an output scale: the 2x one up to 2x, the 4x
    one above (its result is resampled down to the scale asked for)."""
    native = 2 if scale is None or scale <= 2 else 4
    path = builtin_models_dir() / f"builtin-upscaler-x{native}.safetensors"
    if not path.is_file():
        raise UserFacingError(f"The built-in {native}x upscaler is missing from this "
                              f"installation ({path}). Reinstall Artstudio, or choose a "
                              "model file.")
    return path


def verify_builtin_models() -> list[str]:
    """Problems with the shipped networks: missing, or not the bytes that
    models/manifest.json records (a damaged or altered installation)."""
    import hashlib
    import json

    folder = builtin_models_dir()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"models/manifest.json cannot be read: {exc}"]
    problems = []
    for name, entry in manifest.get("models", {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != entry.get("sha256"):
            problems.append(f"{name} differs from the manifest's sha256")
    return problems
