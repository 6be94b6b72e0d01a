"""Is a folder worth adding as a model folder? A quick look by file names only
(nothing is opened), so the Settings dialog can refuse an unreadable folder and
flag one that holds no models before the artist wonders why the list is empty."""

from __future__ import annotations

import os
from pathlib import Path

from artstudio.model_files.identify import MODEL_SUFFIXES

# Deep enough for an install root (webui/models/Stable-diffusion/sub/x.safetensors),
# and a bound on the entries looked at, so "/" or a home folder answers quickly.
MAX_DEPTH = 4
MAX_ENTRIES = 20_000


def unreadable_problem(folder: str | os.PathLike) -> str | None:
    """Why `folder` cannot be a model folder at all, or None."""
    path = Path(folder)
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_dir():
        return f"{path} is not a folder"
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc})"
    return None


def holds_models(folder: str | os.PathLike) -> bool:
    """Whether a model file (or a diffusers folder) lies within MAX_DEPTH levels."""
    pending, seen = [(Path(folder), 0)], 0
    while pending:
        path, depth = pending.pop()
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    seen += 1
                    if seen > MAX_ENTRIES:
                        return False
                    name = entry.name.lower()
                    if name == "model_index.json" or name.endswith(MODEL_SUFFIXES):
                        return True
                    if depth < MAX_DEPTH and not name.startswith(".") and \
                            entry.is_dir(follow_symlinks=False):
                        pending.append((Path(entry.path), depth + 1))
        except OSError:
            continue  # an unreadable subfolder: look at the others
    return False


def model_folder_problem(folder: str | os.PathLike) -> tuple[str, bool] | None:
    """(what is wrong, whether the folder must be refused), or None when the
    folder holds models. A readable folder without models is only flagged: the
    artist may be about to download into it."""
    problem = unreadable_problem(folder)
    if problem:
        return problem, True
    if not holds_models(folder):
        suffixes = ", ".join(MODEL_SUFFIXES[:3])
        return f"{Path(folder)} holds no model files ({suffixes}, ... or diffusers folders)", False
    return None
