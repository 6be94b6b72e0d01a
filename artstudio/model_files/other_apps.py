"""Model folders of other apps on this computer: an AUTOMATIC1111 (or Forge)
web UI or a ComfyUI install in the places their installers use, so a first start
with no models can offer them instead of asking the artist to download again."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from artstudio.model_files.folder_check import holds_models

# (app, install folder relative to the home folder, model folders inside it)
_A1111 = ("models/Stable-diffusion", "models/ESRGAN", "models/RealESRGAN")
_COMFY = ("models/checkpoints", "models/diffusion_models", "models/unet",
          "models/upscale_models")
INSTALLS = (
    ("AUTOMATIC1111", "stable-diffusion-webui", _A1111),
    ("AUTOMATIC1111", "sd.webui/webui", _A1111),  # the Windows one-click package
    ("Forge", "stable-diffusion-webui-forge", _A1111),
    ("Forge", "webui_forge/webui", _A1111),
    ("ComfyUI", "ComfyUI", _COMFY),
    ("ComfyUI", "ComfyUI_windows_portable/ComfyUI", _COMFY),
    ("ComfyUI", "Documents/ComfyUI", _COMFY),  # ComfyUI Desktop
)


@dataclass(frozen=True)
class OtherAppFolder:
    app: str  # "AUTOMATIC1111", "Forge", "ComfyUI"
    folder: Path

    def describe(self) -> str:
        return f"{self.app}: {self.folder}"


def find_other_app_folders(home: str | os.PathLike | None = None,
                           known: tuple[str, ...] | list[str] = ()) -> list[OtherAppFolder]:
    """The model folders of other apps under `home` (default: the user's) that
    hold model files and are not among `known` (the folders already in Settings)."""
    home = Path(home) if home is not None else Path.home()
    already = {_same(k) for k in known}
    found: list[OtherAppFolder] = []
    for app, install, subfolders in INSTALLS:
        for sub in subfolders:
            folder = home / install / sub
            if folder.is_dir() and _same(folder) not in already and holds_models(folder):
                already.add(_same(folder))
                found.append(OtherAppFolder(app, folder))
    return found


def _same(folder: str | os.PathLike) -> str:
    try:
        return str(Path(folder).resolve())
    except OSError:
        return str(folder)
