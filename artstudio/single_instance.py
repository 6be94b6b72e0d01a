"""Handing files to the Artstudio window already running: the Qt-free part.

A second `artstudio FILE` (a double-click in the file manager, "Open with")
sends FILE to the window already open instead of starting a second app over
the same settings. The two meet on a local socket named by `instance_key`:
one per user and per settings home, so two users, or a portable install
beside a normal one, never receive each other's files. The socket itself is
Qt's (`artstudio.ui.instance_server`); this module holds the name and the
one-line messages, so they can be checked without a window.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from artstudio import paths

PROTOCOL = 1
MAX_REQUEST_BYTES = 1 << 20  # a few thousand paths; anything longer is not ours


def instance_key() -> str:
    """The local socket's name for this user and this settings home."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name (a container's bare uid)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    home = os.path.abspath(paths.config_dir())
    digest = hashlib.sha256(f"{user}\0{home}".encode()).hexdigest()[:16]
    return f"artstudio-{digest}"


def open_request(files: Sequence[Path | str]) -> bytes:
    """The message asking the running window to open `files` (made absolute
    here: the running window has another working folder)."""
    names = [os.path.abspath(f) for f in files]
    return json.dumps({"protocol": PROTOCOL, "open": names}).encode() + b"\n"


def read_open_request(line: bytes) -> list[Path]:
    """The files a request names; ValueError for anything else."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a request: {exc}") from None
    if not isinstance(message, dict) or message.get("protocol") != PROTOCOL:
        raise ValueError("not a request of this version")
    names = message.get("open")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError("a request names no files")
    return [Path(n) for n in names]


def open_reply(count: int) -> bytes:
    return json.dumps({"protocol": PROTOCOL, "opening": count}).encode() + b"\n"


def read_open_reply(line: bytes) -> int | None:
    """How many files the running window took, or None if it did not answer
    in this protocol."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(message, dict) or message.get("protocol") != PROTOCOL:
        return None
    count = message.get("opening")
    return count if isinstance(count, int) else None
