"""Turning "this input, that output" into a list of work items, checked
before anything is read or written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from artstudio.batch.naming import BadBatchLocation, Item, plan_folder, plan_single
from artstudio.batch.walk import find_image_names
from artstudio.engine.errors import UserFacingError
from artstudio.engine.file_kinds import not_regular_reason
from artstudio.engine.printable import printable


@dataclass(frozen=True)
class BatchPlan:
    """The items to process and what the walk skipped, with reasons."""

    items: tuple[Item, ...]
    skipped: tuple[tuple[Path, str], ...] = field(default=())
    input_root: Path | None = None
    output_root: Path | None = None  # a folder batch's output folder (None: one file)


def plan_batch(input_path: Path | str, output_path: Path | str, *, recursive: bool = False,
               fmt: str = "png") -> BatchPlan:
    """Plan a batch from a folder (or a single file) to an output folder (or
    file). Raises BadBatchLocation when the output would land in the input,
    UserFacingError when the input does not exist or is not a regular file."""
    src, out = Path(input_path), Path(output_path)
    if src.is_dir():
        if out.exists() and not out.is_dir():
            raise BadBatchLocation(f"{out} is a file; the output of a folder must be a folder.")
        names, found = find_image_names(src, recursive)
        items = plan_folder(names, src, out, fmt)
        return BatchPlan(tuple(items), tuple(found.skipped), src, out)
    if src.is_file():
        return BatchPlan((plan_single(src, out, fmt),), (), src.parent)
    raise UserFacingError(f"{printable(src)}: {not_regular_reason(src) or 'cannot be read'}.")
