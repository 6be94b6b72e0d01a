"""Finding the transformers models an assist can use, in the folders artists
keep them: the app's models folder (its clip/, captioners/ and lm/
subfolders) and the Hugging Face cache. A folder is recognised by its
config.json, never by its name, and nothing is downloaded."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from artstudio.engine.errors import UserFacingError


@dataclass(frozen=True)
class AssistKind:
    name: str  # "clip", "captioner", "lm"
    label: str  # for messages: "a CLIP model"
    subfolder: str  # where in the app's models folder the artist puts them
    accepts: Callable[[dict], bool]  # over the folder's config.json


def _architectures(config: dict) -> list[str]:
    return [str(a) for a in config.get("architectures") or []]


CLIP = AssistKind("clip", "a CLIP model", "clip",
                  lambda c: c.get("model_type") == "clip" and "vision_config" in c)
CAPTIONER = AssistKind(
    "captioner", "an image-captioning model", "captioners",
    lambda c: c.get("model_type") in ("blip", "vision-encoder-decoder", "git", "florence2")
    or any(a.endswith(("ForConditionalGeneration", "ForImageTextToText"))
           and "vision_config" in c for a in _architectures(c)))
LANGUAGE_MODEL = AssistKind(
    "lm", "a language model", "lm",
    lambda c: any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in _architectures(c)))


def read_config(folder: Path) -> dict | None:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def is_kind(folder: Path, kind: AssistKind) -> bool:
    config = read_config(folder)
    return config is not None and kind.accepts(config)


def search_roots(kind: AssistKind) -> list[Path]:
    from artstudio.model_files.scan import hf_hub_cache
    from artstudio.paths import user_models_dir

    return [user_models_dir() / kind.subfolder, hf_hub_cache()]


def _candidates(root: Path) -> Iterable[Path]:
    if not root.is_dir():
        return
    yield root
    for child in sorted(root.iterdir()):
        snapshots = child / "snapshots"
        if snapshots.is_dir():  # a hub cache entry: its snapshots
            yield from sorted(p for p in snapshots.iterdir() if p.is_dir())
        elif child.is_dir():
            yield child


def find_local(kind: AssistKind, roots: Iterable[Path] | None = None) -> list[Path]:
    """Every folder under `roots` (default: search_roots) holding such a model."""
    found: list[Path] = []
    for root in roots if roots is not None else search_roots(kind):
        found += [p for p in _candidates(Path(root)) if is_kind(p, kind)]
    return found


def resolve(kind: AssistKind, path: str | os.PathLike | None) -> Path:
    """The model folder to use: the one named (checked), else the first found;
    a clear message saying where it looked when there is none."""
    if path:
        folder = Path(path)
        if not folder.is_dir():
            raise UserFacingError(f"{folder} is not a folder; {kind.label} is a transformers "
                                  "folder with a config.json.")
        if not is_kind(folder, kind):
            raise UserFacingError(f"{folder.name} is not {kind.label} (its config.json does "
                                  "not describe one).")
        return folder
    found = find_local(kind)
    if not found:
        where = " or ".join(str(r) for r in search_roots(kind))
        raise UserFacingError(f"No {kind.label.split(' ', 1)[1]} was found: put one (a "
                              f"transformers folder) in {where}.")
    return found[0]
