"""The error raised when a file cannot be read or written."""

from __future__ import annotations

from pathlib import Path

from artstudio.engine.errors import UserFacingError
from artstudio.engine.printable import printable


class DocumentFileError(UserFacingError):
    """A file could not be opened or saved. The message names the file and
    the reason in words for the artist (control characters in either escaped,
    so a name cannot forge a line); `path` keeps the full path."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = printable(reason)
        super().__init__(f"“{printable(self.path.name)}”: {self.reason}")
