"""The refusal an all-in-one single file gets when a part it should hold is not inside."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from artstudio.engine.errors import UserFacingError


def require_embedded(state: dict, checkpoint: Path, parts: Iterable[tuple[str, str]],
                     family: str, includes: str) -> None:
    """`parts` are (what the artist calls it, its key prefix in the file)."""
    missing = [what for what, prefix in parts if not any(k.startswith(prefix) for k in state)]
    if missing:
        raise UserFacingError(
            f"{checkpoint.name} has no {' or '.join(missing)} inside; choose an all-in-one "
            f"{family} file (one that includes its {includes}).")
