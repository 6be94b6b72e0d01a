"""Where each output goes: the same relative path under the output folder,
with the chosen format's extension, decided before anything runs.

The mapping depends only on the set of inputs, never on what already exists,
so a batch run twice (or resumed after a crash) names every file the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from artstudio.engine.errors import UserFacingError

FORMATS = {"png": ".png", "jpg": ".jpg", "webp": ".webp"}


class BadBatchLocation(UserFacingError):
    """The output location would write into or over the input."""


@dataclass(frozen=True)
class Item:
    """One unit of batch work: an input file and its deterministic output."""

    source: Path
    target: Path


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_locations(input_root: Path, output_root: Path) -> None:
    """Refuse an output folder equal to, or inside, the input folder: the
    batch would write among its own inputs (and find its outputs as inputs
    on the next run)."""
    inp, out = input_root.resolve(), output_root.resolve()
    if out == inp:
        raise BadBatchLocation(
            f"The output folder is the input folder ({inp}); choose a different folder so "
            "no original is overwritten.")
    if _inside(out, inp):
        raise BadBatchLocation(
            f"The output folder {out} is inside the input folder {inp}; choose a folder "
            "outside it.")


def plan_folder(images: list[Path], input_root: Path, output_root: Path,
                fmt: str) -> list[Item]:
    """Output paths for images found under `input_root`, keeping subfolders.
    Two inputs that would meet (photo.jpg and photo.png to photo.png) both keep
    their old extension in the name (photo_jpg.png, photo_png.png)."""
    check_locations(input_root, output_root)
    ext = FORMATS[fmt]
    wanted: dict[Path, list[Path]] = defaultdict(list)
    for src in images:
        rel = src.relative_to(input_root)
        wanted[(output_root / rel).with_suffix(ext)].append(src)
    items = []
    inp = input_root.resolve()
    for target, sources in wanted.items():
        for src in sources:
            dest = target
            if len(sources) > 1:
                tag = src.suffix.lower().lstrip(".")
                dest = target.with_name(f"{target.stem}_{tag}{ext}")
            if _inside(dest.resolve(), inp):
                raise BadBatchLocation(f"{dest} would be written inside the input folder.")
            items.append(Item(src, dest))
    items.sort(key=lambda it: it.source.relative_to(input_root).as_posix().lower())
    return items


def plan_single(source: Path, output: Path, fmt: str | None) -> Item:
    """One input file: `output` is a file when it has an image extension,
    otherwise a folder that receives the file under its own name."""
    if output.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
        target = output
    else:
        target = output / source.with_suffix(FORMATS[fmt or "png"]).name
    if target.resolve() == source.resolve():
        raise BadBatchLocation(f"{target.name}: the output would overwrite the input.")
    return Item(source, target)


def format_of(path: Path) -> str:
    """The format name for an output path's extension."""
    suffix = path.suffix.lower()
    return "jpg" if suffix == ".jpeg" else suffix.lstrip(".")
