"""One frame of a journey, as the generator hands it to an exporter or a view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Frame:
    index: int  # 0-based place in the journey
    image: Any  # PIL.Image.Image, RGB
    params: dict[str, Any]  # the generation parameters, for the PNG text chunk (metadata.py)


@dataclass(frozen=True)
class ExportResult:
    path: Path  # the file or folder written
    frames: int  # how many frames it holds
    cancelled: bool  # the journey stopped early; `frames` says how far it got
