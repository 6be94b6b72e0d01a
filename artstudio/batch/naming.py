"""Where each output goes: the same relative path under the output folder,
with the chosen format's extension, decided before anything runs.

The mapping depends only on the set of inputs, never on what already exists,
so a batch run twice (or resumed after a crash) names every file the same.
"""

from __future__ import annotations

import os
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


def _is_within(child: str, parent: str) -> bool:
    return child == parent or child.startswith(os.path.join(parent, ""))


class _OutputFolders:
    """Where planned outputs really land, asked once per output folder rather
    than once per file: each folder resolved once, and only names that are
    symbolic links already (which may point anywhere) resolved one by one."""

    def __init__(self) -> None:
        self._real: dict[str, str] = {}
        self._links: dict[str, frozenset[str]] = {}

    def real_path(self, target: str) -> str:
        folder, name = os.path.split(target)
        real = self._real.get(folder)
        if real is None:
            real = self._real[folder] = os.path.realpath(folder)
            try:
                with os.scandir(folder) as entries:
                    links = frozenset(e.name for e in entries if e.is_symlink())
            except OSError:  # not there yet, so nothing in it is a link
                links = frozenset()
            self._links[folder] = links
        if name in self._links[folder]:
            return os.path.realpath(target)
        return os.path.join(real, name)


def plan_folder(images: list[Path] | list[str], input_root: Path, output_root: Path,
                fmt: str) -> list[Item]:
    """Output paths for images found under `input_root` (paths or their
    strings, as the walk gives them), keeping subfolders.
    Two inputs that would meet (photo.jpg and photo.png to photo.png) both keep
    their old extension in the name (photo_jpg.png, photo_png.png)."""
    check_locations(input_root, output_root)
    ext = FORMATS[fmt]
    # Plain strings: pathlib's parsing cost seconds per 100,000 files.
    in_root, out_root = str(input_root), str(output_root)
    skip = len(os.path.join(in_root, ""))
    wanted: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for src in images:
        source = str(src)
        rel = source[skip:]
        stem, _suffix = os.path.splitext(rel)
        wanted[os.path.join(out_root, stem + ext)].append((rel, source))
    inp = str(input_root.resolve())
    folders = _OutputFolders()
    planned = []
    for target, sources in wanted.items():
        for rel, source in sources:
            dest = target
            if len(sources) > 1:
                tag = os.path.splitext(source)[1].lower().lstrip(".")
                dest = f"{os.path.splitext(target)[0]}_{tag}{ext}"
            if _is_within(folders.real_path(dest), inp):
                raise BadBatchLocation(f"{dest} would be written inside the input folder.")
            planned.append((rel.replace(os.sep, "/").lower(), source, dest))
    planned.sort(key=lambda entry: entry[0])
    return [Item(Path(source), Path(dest)) for _key, source, dest in planned]


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
