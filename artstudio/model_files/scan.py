"""Finding models in the folders artists keep: the app's models folder,
AUTOMATIC1111 and ComfyUI installs, and the Hugging Face cache. Every file is
identified by reading it (see identify), so a scan never trusts a name. A
diffusion model kept apart from its text encoders and VAE (ComfyUI's
models/diffusion_models) is listed with the set assembled from its sibling
folders (component_sets), saying what is missing where nothing fits."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path

from artstudio.model_files import component_sets, safe_load
from artstudio.model_files.identify import (
    MODEL_SUFFIXES,
    ModelInfo,
    identify_diffusers_folder,
    identify_file,
)

# Where model managers keep their files, relative to an install's root.
KNOWN_SUBFOLDERS = ("models/Stable-diffusion", "models/ESRGAN", "models/RealESRGAN",
                    "models/checkpoints", "models/upscale_models", "models/diffusers",
                    "models/diffusion_models", "models/unet",
                    "Stable-diffusion", "ESRGAN", "checkpoints", "upscale_models",
                    "diffusion_models", "unet")


def hf_hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(Path.home(), ".cache", "huggingface")
    return Path(home) / "hub"


def default_roots(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """The app's models folder, folders the user added (an A1111 or ComfyUI
    install root works as well as its models folder) and the HF hub cache."""
    from artstudio import paths

    return [paths.user_models_dir(), *(Path(p) for p in extra), hf_hub_cache()]


def _candidate_dirs(root: Path) -> list[Path]:
    out = [root]
    out += [root / sub for sub in KNOWN_SUBFOLDERS if (root / sub).is_dir()]
    return out


def _hub_snapshots(root: Path) -> list[Path]:
    """models--org--name/snapshots/<rev>/: the newest revision of each repo."""
    found = []
    for repo in sorted(root.glob("models--*")):
        snaps = [p for p in (repo / "snapshots").glob("*") if p.is_dir()]
        if snaps:
            found.append(max(snaps, key=lambda p: p.stat().st_mtime))
    return found


def with_components(info: ModelInfo) -> ModelInfo:
    """A split diffusion model with its parts assembled from the sibling folders."""
    if info.format != "split" or info.components is not None:
        return info
    found = component_sets.assemble(info.path)
    return dataclasses.replace(info, components=found,
                               notes=(*info.notes, *found.missing, *found.optional_missing))


def scan(roots: Iterable[str | os.PathLike], max_depth: int = 3) -> list[ModelInfo]:
    """Every model under `roots`, deduplicated by resolved path. Config folders
    beside a checkpoint (same stem) are not listed as models of their own."""
    seen: set[Path] = set()
    results: list[ModelInfo] = []

    def add(info: ModelInfo) -> None:
        key = info.path.resolve()
        if key not in seen:
            seen.add(key)
            results.append(with_components(info))

    def walk(folder: Path, depth: int) -> None:
        if (folder / "model_index.json").is_file():
            sibling = [folder.with_name(folder.name + s) for s in MODEL_SUFFIXES]
            if not any(p.is_file() for p in sibling):
                add(identify_diffusers_folder(folder))
            return
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.is_file() and entry.suffix.lower() in MODEL_SUFFIXES:
                if entry.stat().st_size < 1024 and entry.suffix.lower() == ".bin":
                    continue
                add(identify_file(entry))
            elif entry.is_dir() and depth < max_depth and not entry.name.startswith("."):
                walk(entry, depth + 1)

    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        if root.name == "hub" or any(root.glob("models--*")):
            for snap in _hub_snapshots(root):
                if (snap / "model_index.json").is_file():
                    add(identify_diffusers_folder(snap))
                else:  # a single-file repo: its checkpoints sit in the snapshot root
                    for f in sorted(snap.iterdir()):
                        if f.suffix.lower() in safe_load.SAFETENSORS_SUFFIXES:
                            add(identify_file(f))
            continue
        for folder in _candidate_dirs(root):
            walk(folder, 0)
    return results
