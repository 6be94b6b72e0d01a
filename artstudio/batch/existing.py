"""Which planned outputs exist already, found by listing each output folder
once instead of asking once per file: resuming a batch of 100,000 images
that is nearly done must not take longer than planning it."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path


def existing_targets(targets: Iterable[Path]) -> set[str]:
    """The `targets` that exist, as Path.exists would say (a link counts
    when what it points to exists), as strings (`str(target) in found`):
    hashing 100,000 Paths costs more than listing their folders."""
    by_folder: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for target in targets:
        text = str(target)
        folder, name = os.path.split(text)
        by_folder[folder].append((name, text))
    found: set[str] = set()
    for folder, wanted in by_folder.items():
        try:
            with os.scandir(folder or ".") as entries:
                links = {}
                present = set()
                for entry in entries:
                    present.add(entry.name)
                    if entry.is_symlink():
                        links[entry.name] = entry.path
        except OSError:  # no folder yet: nothing in it exists
            continue
        for name, target in wanted:
            if name in present and (name not in links or os.path.exists(links[name])):
                found.add(target)
    return found
