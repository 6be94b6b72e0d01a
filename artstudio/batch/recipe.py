"""What made a batch output: the settings that change its pixels, in a form
that can be stored, compared and shown.

A recipe is a plain dict (JSON-ready): the kind of work ("style",
"upscale"), a one-line description, every option of the feature's options
dataclass except those that only choose where it runs, model and painting
files by their contents (a moved or renamed file is the same model; a file
retrained under the same name is not), and the output format and quality.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path
from typing import Any

# Options that choose where the work runs, not what it makes.
PLACEMENT_FIELDS = frozenset({"device", "precision"})
# Options that name files, per kind: compared by content, shown by name.
FILE_FIELDS = {
    "style": ("style_images", "cyclegan_path"),
    "upscale": ("model",),
}
WHOLE_FILE_BYTES = 64 << 20  # hashed whole up to this size; larger: size, head and tail
PART_BYTES = 4 << 20


def _hash_file(path: Path, digest) -> None:
    size = path.stat().st_size
    digest.update(str(size).encode())
    with path.open("rb") as fh:
        if size <= WHOLE_FILE_BYTES:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        else:
            digest.update(fh.read(PART_BYTES))
            fh.seek(size - PART_BYTES)
            digest.update(fh.read(PART_BYTES))


def file_identity(value: str) -> dict[str, str]:
    """{"file": name, "sha256": ...} for a file or a folder (a diffusers
    model: every file's relative name and contents); a value naming neither
    (a built-in model) is kept as it is."""
    path = Path(value)
    digest = hashlib.sha256()
    try:
        if path.is_file():
            _hash_file(path, digest)
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(child.relative_to(path).as_posix().encode("utf-8", "replace"))
                _hash_file(child, digest)
        else:
            return {"file": value}
    except OSError:
        return {"file": path.name, "sha256": "unreadable"}
    return {"file": path.name, "sha256": digest.hexdigest()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Path):
        return str(value)
    return value


def recipe_of(kind: str, options: Any, fmt: str, quality: int,
              description: str = "") -> dict[str, Any]:
    """The recipe of a batch: `options` is the feature's options dataclass
    (StyleOptions, UpscaleOptions)."""
    files = FILE_FIELDS.get(kind, ())
    settings: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        if f.name in PLACEMENT_FIELDS:
            continue
        value = getattr(options, f.name)
        if f.name in files and value:
            value = ([file_identity(str(v)) for v in value] if isinstance(value, tuple | list)
                     else file_identity(str(value)))
        settings[f.name] = _plain(value)
    output: dict[str, Any] = {"format": fmt}
    if fmt in ("jpg", "webp"):  # PNG is lossless: its level changes no pixel
        output["quality"] = int(quality)
    return {"kind": kind, "what": description, "settings": settings, "output": output}


def _comparable(value: Any) -> Any:
    # A file is the same file under another name or folder.
    if isinstance(value, dict) and "sha256" in value:
        return value["sha256"]
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _key(recipe: dict[str, Any]) -> str:
    body = {"kind": recipe.get("kind"), "output": recipe.get("output"),
            "settings": {k: _comparable(v) for k, v in recipe.get("settings", {}).items()}}
    return json.dumps(body, sort_keys=True, ensure_ascii=True)


def same_recipe(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _key(a) == _key(b)


def recipe_id(recipe: dict[str, Any]) -> str:
    """A short stable name for a recipe (equal recipes, equal ids)."""
    return hashlib.sha256(_key(recipe).encode()).hexdigest()[:12]


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("file", "?")
    if isinstance(value, list):
        if len(value) > 4 and all(isinstance(v, int | float) for v in value):
            # A long weight vector (26 built-in styles): only the styles in use.
            used = [f"{i}:{v:g}" for i, v in enumerate(value) if v]
            return "[" + ", ".join(used) + "]"
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return "none" if value is None else str(value)


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines naming each setting that differs: "strength: 0.5 -> 1"."""
    lines = []
    if old.get("what") and new.get("what") and old["what"] != new["what"]:
        lines.append(f"{old['what']} -> {new['what']}")  # in words first, then each setting
    if old.get("kind") != new.get("kind"):
        lines.append(f"kind: {old.get('kind')} -> {new.get('kind')}")
    for section in ("settings", "output"):
        a, b = old.get(section, {}), new.get(section, {})
        for name in sorted(set(a) | set(b), key=lambda k: (list(b) + list(a)).index(k)):
            if _comparable(a.get(name)) != _comparable(b.get(name)):
                label = name.replace("_", " ")
                was, now = _show(a.get(name)), _show(b.get(name))
                if was == now:  # a file of the same name, changed since
                    now += " with other contents"
                lines.append(f"{label}: {was} -> {now}")
    return lines


TEXT_KEY = "artstudio-batch"


def recipe_text(recipe: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """PNG text chunks saying how an output was made, so the file alone
    tells: the recipe as JSON under TEXT_KEY, and its description."""
    return (("Software", "Artstudio"), ("Description", recipe.get("what") or recipe["kind"]),
            (TEXT_KEY, json.dumps(recipe, ensure_ascii=True, sort_keys=True)))
