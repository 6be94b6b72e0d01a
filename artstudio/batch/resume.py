"""Resuming keys on what made an output, not only on its existence.

The output folder keeps a small record (SETTINGS_NAME): the recipes used
there and, for each output, the recipe that made it. Before a run, the
planned outputs that already exist are checked against it: made with the
same settings, they count as done (an interrupted batch resumes); made with
other settings, the run stops before any work and says what differs, unless
the caller chose to overwrite them or to keep them and do only the missing
ones. A folder from before the record existed resumes as it always did.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artstudio.batch.existing import existing_targets
from artstudio.batch.naming import Item
from artstudio.batch.recipe import differences, recipe_id, recipe_text, same_recipe
from artstudio.engine.errors import UserFacingError

if TYPE_CHECKING:
    from artstudio.batch.pipeline import BatchSettings

SETTINGS_NAME = "batch-settings.json"


class OtherSettings(Enum):
    """What to do with outputs that other settings made."""

    REFUSE = "refuse"  # stop before any work and say what differs
    OVERWRITE = "overwrite"  # redo every output
    KEEP = "keep"  # keep them, do only the missing outputs (resume anyway)


@dataclass(frozen=True)
class ResumeCheck:
    """How the planned outputs stand against the folder's record."""

    output_root: Path
    recipe: dict[str, Any]
    existing: int = 0  # planned outputs that exist
    other: tuple[Path, ...] = ()  # ... of which other settings made these
    differences: tuple[str, ...] = ()  # what differs, one line per setting
    record: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def conflict(self) -> bool:
        return bool(self.other)

    def message(self) -> str:
        """One paragraph for the terminal or the dialog."""
        what = "; ".join(self.differences) or "other settings"
        return (f"{len(self.other)} of the {self.existing} existing output(s) in "
                f"{self.output_root} were made with other settings ({what}).")


class OtherSettingsFound(UserFacingError):
    """The run would mix outputs of two settings; nothing was done."""

    def __init__(self, check: ResumeCheck):
        super().__init__(check.message())
        self.check = check


def _relative(target: Path, root: Path) -> str:
    # By string: pathlib's relative_to costs seconds over 100,000 outputs.
    text, prefix = str(target), os.path.join(str(root), "")
    if text.startswith(prefix):
        return text[len(prefix):].replace(os.sep, "/")
    try:
        return target.relative_to(root).as_posix()
    except ValueError:
        return target.name


def read_record(output_root: Path) -> dict[str, Any]:
    """The folder's record, or an empty one (none yet, or unreadable)."""
    try:
        data = json.loads((output_root / SETTINGS_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return {"recipes": {}, "outputs": {}}
    if not isinstance(data, dict):
        return {"recipes": {}, "outputs": {}}
    data.setdefault("recipes", {})
    data.setdefault("outputs", {})
    return data


def check_resume(output_root: Path, items: tuple[Item, ...] | list[Item],
                 recipe: dict[str, Any]) -> ResumeCheck:
    """Compare the planned outputs that exist with the recipe of this run."""
    record = read_record(output_root)
    recipes, outputs = record["recipes"], record["outputs"]
    existing, other, seen = 0, [], []
    there = existing_targets(item.target for item in items)
    # Compared once per recipe in the record, not once per output.
    others = {rid for rid, made_by in recipes.items() if not same_recipe(made_by, recipe)}
    for item in items:
        if str(item.target) not in there:
            continue
        existing += 1
        made_id = outputs.get(_relative(item.target, output_root))
        if made_id in others:
            other.append(item.target)
            if made_id not in seen:
                seen.append(made_id)
    lines: list[str] = []
    for made_id in seen:
        lines += [line for line in differences(recipes[made_id], recipe) if line not in lines]
    return ResumeCheck(output_root, recipe, existing, tuple(other), tuple(lines), record)


def write_record(check: ResumeCheck, items: tuple[Item, ...] | list[Item],
                 policy: OtherSettings) -> None:
    """Record, before the run starts, which recipe each planned output will
    hold once it exists: this run's for every output it will write, the old
    one for an output it keeps. Atomic, so a kill leaves the old record."""
    from artstudio.document.save import atomic_write

    root = check.output_root
    record = check.record or read_record(root)
    new_id = recipe_id(check.recipe)
    outputs = dict(record["outputs"])
    kept = set(check.other) if policy is OtherSettings.KEEP else set()
    for item in items:
        rel = _relative(item.target, root)
        if policy is OtherSettings.OVERWRITE or item.target not in kept:
            outputs[rel] = new_id
    recipes = dict(record["recipes"])
    recipes[new_id] = check.recipe
    used = set(outputs.values())
    data = {"version": 1, "recipes": {k: v for k, v in recipes.items() if k in used},
            "outputs": outputs}
    text = json.dumps(data, indent=1, ensure_ascii=True).encode("ascii")
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(root / SETTINGS_NAME, lambda fh: fh.write(text))


def begin_run(check: ResumeCheck, items: tuple[Item, ...] | list[Item],
              policy: OtherSettings, settings: BatchSettings) -> BatchSettings:
    """Once the run is sure to start: record it, and return the batch
    settings that carry it out (redo everything for OVERWRITE; every PNG
    output carries the recipe). Raises OtherSettingsFound for a conflict
    the policy does not settle."""
    if check.conflict and policy is OtherSettings.REFUSE:
        raise OtherSettingsFound(check)
    write_record(check, items, policy)
    return dataclasses.replace(settings, text=recipe_text(check.recipe),
                               overwrite=settings.overwrite or policy is OtherSettings.OVERWRITE)


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:40].strip("-") or "batch"


def fresh_subfolder(output_root: Path, recipe: dict[str, Any]) -> Path:
    """A subfolder of the output folder named after the settings ("style-
    frost", then "style-frost-2", ...) that does not exist yet."""
    base = _slug(recipe.get("what") or recipe.get("kind") or "batch")
    candidate, n = output_root / base, 2
    while candidate.exists():
        candidate = output_root / f"{base}-{n}"
        n += 1
    return candidate
