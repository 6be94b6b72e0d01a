"""Where guidance models (ControlNets, IP-Adapters) are kept and how a name
on the command line or in a request finds one: shared by the file modules."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from artstudio.engine.errors import UserFacingError

Info = TypeVar("Info")


def model_roots(folder_names: Iterable[str], extra: Iterable[str | os.PathLike] = ()
                ) -> list[Path]:
    """The existing folders named `folder_names` in the app's models folder and
    in other apps' installs (models/NAME), and the artist's folders `extra`
    (an install's root or models folder works as well as the folder itself)."""
    from artstudio.model_files.other_apps import INSTALLS
    from artstudio.paths import user_models_dir

    names = tuple(folder_names)
    home = Path.home()
    roots = [user_models_dir() / name for name in names]
    for _app, install, _subfolders in INSTALLS:
        roots += [home / install / "models" / name for name in names]
    for folder in (Path(e) for e in extra):
        roots += [folder, *(folder / name for name in names),
                  *(folder / "models" / name for name in names)]
    return list(dict.fromkeys(r for r in roots if r.is_dir()))


def find_models(roots: Iterable[str | os.PathLike], max_depth: int,
                is_candidate: Callable[[Path], bool], identify: Callable[[Path], Info],
                keep: Callable[[Info], bool]) -> list[Info]:
    """Every model under `roots`, by name: each entry `is_candidate` accepts is
    identified and kept when `keep` says so; other folders are searched
    `max_depth` levels down (hidden ones skipped). One file reached through
    two roots counts once."""
    found: dict[Path, Info] = {}

    def walk(folder: Path, depth: int) -> None:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if is_candidate(entry):
                info = identify(entry)
                if keep(info):
                    found.setdefault(entry.resolve(), info)
            elif entry.is_dir() and depth < max_depth and not entry.name.startswith("."):
                walk(entry, depth + 1)

    for root in roots:
        walk(Path(root), 0)
    return sorted(found.values(), key=lambda i: i.name.lower())


def resolve_named(name: str, known: Iterable[Info], identify: Callable[[Path], Info],
                  missing: str) -> Info:
    """What a path (identified) or a name in the library (`known`, by its name
    or file name) means; UserFacingError(`missing`) when neither."""
    path = Path(name)
    if path.exists():
        return identify(path)
    for info in known:
        if name in (info.name, info.path.name):
            return info
    raise UserFacingError(missing)
