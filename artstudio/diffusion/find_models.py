"""The diffusion models in the model folders, for the Generate panel's list.

A scan reads every candidate file's header, which takes seconds on a large
library, so the panel runs it as a pool job (Rescan, and at start).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.diffusion.previews import find_taesd
from artstudio.model_files.identify import ModelInfo, default_roots, scan

# Latent families with a TAESD preview decoder of their own (SD2 shares SD1's).
PREVIEW_FAMILIES = ("sd1", "sdxl")


@dataclass(frozen=True)
class FoundModels:
    models: list[ModelInfo] = field(default_factory=list)
    # A TAESD folder per latent family, None where there is none.
    preview_decoders: dict[str, Path | None] = field(default_factory=dict)


def find_diffusion_models(folders: Iterable[str] = (), progress=None,
                          cancel=None) -> FoundModels:
    """Diffusion models in the app's models folder, the folders the user added
    and the Hugging Face cache, and TAESD preview decoders if any. (Engine job
    form: progress and cancel unused.)"""
    roots = default_roots(folders)
    infos = [info for info in scan(roots) if info.is_diffusion]
    return FoundModels(infos, {family: find_taesd(roots, family) for family in PREVIEW_FAMILIES})
