"""Short names of styles, for the layers they make ("img00 (Mosaic)")."""

from __future__ import annotations

from pathlib import Path

from artstudio.style.builtin_styles import BUILTIN_STYLES
from artstudio.style.transfer import StyleOptions


def _title(name: str) -> str:
    return name.replace("-", " ").capitalize()


def style_label(options: StyleOptions) -> str:
    """"Mosaic", "Mosaic 70% + Lilac 30%", "after starry", "CycleGAN monet"."""
    if options.engine == "builtin":
        used = [(i, w) for i, w in enumerate(options.style_weights) if w > 0]
        if len(used) == 1:
            return _title(BUILTIN_STYLES[used[0][0]])
        return " + ".join(f"{_title(BUILTIN_STYLES[i])} {w:.0%}" for i, w in used)
    if options.engine == "arbitrary":
        return "after " + ", ".join(Path(p).stem for p in options.style_images)
    return f"CycleGAN {Path(options.cyclegan_path or '').stem}"
