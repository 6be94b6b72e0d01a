"""Where settings, data (autosaves, caches, models) and logs live.

The platform's places (platformdirs), overridable with ARTSTUDIO_HOME so that
tests, portable installs and CI never touch a user's real folders.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_dirs = PlatformDirs(appname="Artstudio", appauthor=False)


def _home() -> Path | None:
    value = os.environ.get("ARTSTUDIO_HOME")
    return Path(value) if value else None


def config_dir() -> Path:
    home = _home()
    return home / "config" if home else Path(_dirs.user_config_dir)


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(_dirs.user_data_dir)


def log_dir() -> Path:
    home = _home()
    return home / "logs" if home else Path(_dirs.user_log_dir)


def settings_file() -> Path:
    return config_dir() / "settings.json"


def user_models_dir() -> Path:
    return data_dir() / "models"


def autosave_dir() -> Path:
    return data_dir() / "autosave"


def unwritable_home_note() -> str | None:
    """One line for the artist when the settings or data folder cannot be
    written (a read-only or full home, a file in the way), or None. The app
    still starts; it just cannot keep settings, autosaves or models."""
    for folder in (config_dir(), data_dir()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            writable = os.access(folder, os.W_OK)
            reason = "not writable"
        except OSError as exc:
            writable, reason = False, exc.strerror or str(exc)
        if not writable:
            return (f"Artstudio cannot write to {folder} ({reason}): settings, autosaves and "
                    "models will not be kept this session. Free the folder, or set "
                    "ARTSTUDIO_HOME to a writable one.")
    return None
