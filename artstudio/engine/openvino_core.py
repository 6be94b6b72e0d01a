"""OpenVINO on the CPU (`pip install 'artstudio[fast]'`), shared by the
style networks and the compact upscalers: whether it is installed, and one
`Core` that keeps what it compiled in the data folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def compiled_cache() -> Path | None:
    """Where OpenVINO keeps the networks it compiled (compiling is a third
    of a second of CPU at every start; loading the kept one, a tenth), or
    None when the data folder cannot be written."""
    from artstudio.paths import data_dir

    folder = data_dir() / "cache" / "openvino"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def new_core() -> Any:
    """An `openvino.Core` whose compiled networks are kept (when they can be)."""
    import openvino as ov

    core = ov.Core()
    cache = compiled_cache()
    if cache is not None:
        core.set_property({"CACHE_DIR": str(cache)})
    return core

