"""The diffusion models in the model folders, for the Generate panel's list.

A scan reads every candidate file's header, which takes seconds on a large
library, so the panel runs it as a pool job (Rescan, and at start).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.diffusion import families
from artstudio.diffusion.previews import find_taesd
from artstudio.model_files.identify import ModelInfo
from artstudio.model_files.scan import default_roots, scan


@dataclass(frozen=True)
class FoundModels:
    models: list[ModelInfo] = field(default_factory=list)
    # A TAESD folder per family name, None where there is none.
    preview_decoders: dict[str, Path | None] = field(default_factory=dict)
    # Folders the user added that are not there now (a drive not connected, a share
    # not mounted): their models are missing from the list, and the panel says why.
    missing_folders: list[Path] = field(default_factory=list)


def find_diffusion_models(folders: Iterable[str] = (), progress=None,
                          cancel=None) -> FoundModels:
    """Diffusion models in the app's models folder, the folders the user added
    and the Hugging Face cache, and TAESD preview decoders if any. (Engine job
    form: progress and cancel unused.)"""
    roots = default_roots(folders)
    infos = [info for info in scan(roots) if info.is_diffusion]
    by_space: dict[int, Path | None] = {}  # families sharing a latent space share a decoder
    decoders = {}
    for spec in families.FAMILIES:
        key = id(spec.latent)
        if key not in by_space:
            by_space[key] = find_taesd(roots, spec.name)
        decoders[spec.name] = by_space[key]
    missing = [Path(p) for p in folders if not Path(p).is_dir()]
    return FoundModels(infos, decoders, missing)
