"""Finding the images of a folder: deterministic order, hidden files,
non-images and anything that is not a regular file (a named pipe, a device,
a broken or looping link) skipped with the reason, symlinked folders never
followed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.document.io_images import IMAGE_SUFFIXES
from artstudio.engine.file_kinds import FOLDER, not_regular_reason


@dataclass
class Found:
    """What a walk found: images to process, and what it left out and why."""

    images: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def is_hidden(name: str) -> bool:
    # Dot files include our own in-progress ".name.xxxx.tmp" outputs and
    # macOS "._photo.jpg" resource forks, which are not images.
    return name.startswith(".")


def find_images(root: Path, recursive: bool = False) -> Found:
    """Images under `root` (sorted by relative path), skipping hidden entries
    and files whose extension is not an image type. Symbolic links to folders
    are never entered (a link loop cannot trap the walk, and a link cannot
    lead the batch outside the folder the artist chose)."""
    names, found = find_image_names(root, recursive)
    found.images = [Path(name) for name in names]
    return found


def find_image_names(root: Path, recursive: bool = False) -> tuple[list[str], Found]:
    """find_images' images as path strings (and what it skipped): a studio
    folder holds 100,000 files, and making a Path of each costs seconds that
    planning, which makes its own, does not need to spend."""
    found = Found()
    names: list[str] = []
    _walk(str(root), recursive, found, names)
    start = len(os.path.join(str(root), ""))
    names.sort(key=lambda name: name[start:].replace(os.sep, "/").lower())
    return names, found


def _walk(folder: str, recursive: bool, found: Found, images: list[str]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        found.skipped.append((Path(folder), f"folder could not be read ({exc.strerror or exc})"))
        return
    for entry in entries:
        if is_hidden(entry.name):
            found.skipped.append((Path(entry.path), "hidden"))
            continue
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
            # The entry's type comes with the listing: no call per file
            # unless it is a link (whose target must be asked) or odd.
            is_file = not is_link and entry.is_file(follow_symlinks=False)
        except OSError as exc:
            found.skipped.append((Path(entry.path), f"could not be read ({exc.strerror or exc})"))
            continue
        if is_dir:
            if recursive:
                _walk(entry.path, recursive, found, images)
            continue
        # Asked of the file system, never by opening: a named pipe named like
        # an image would block the batch forever.
        problem = None if is_file else not_regular_reason(entry.path)
        if problem == FOLDER and is_link:
            problem = "link to a folder (not followed)"
        elif problem is None and os.path.splitext(entry.name)[1].lower() not in IMAGE_SUFFIXES:
            problem = "not an image file"
        if problem is not None:
            found.skipped.append((Path(entry.path), problem))
            continue
        images.append(entry.path)
