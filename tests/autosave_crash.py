"""Playing a crash in the test's own process, as far as autosaves go."""

from __future__ import annotations

import os

from artstudio.document import autosave_owner


def crash() -> None:
    """The system drops this process's autosave owner locks (the owner files
    stay), as when a window dies: the autosaves it wrote are what the next
    start finds and offers."""
    while autosave_owner._held:
        _path, fd = autosave_owner._held.popitem()
        os.close(fd)
