"""Application settings: a JSON file in the platform's config folder.

A corrupt file, a file from another version or an unwritable folder never
stops the app: bad values fall back to defaults, each with a note the UI shows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from artstudio import paths
from artstudio.engine.devices import DEVICE_CHOICES, PRECISION_CHOICES

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
OFFLOAD_CHOICES = ("auto", "on", "off")
# Kinds of file dialog that remember their own folder.
FOLDER_KINDS = ("results", "models")


@dataclass
class Settings:
    version: int = SCHEMA_VERSION
    device: str = "auto"
    precision: str = "auto"
    # Model cache budget in MB; 0 means automatic (half the RAM, or the VRAM).
    memory_budget_mb: int = 0
    cpu_offload: str = "auto"
    model_folders: list[str] = field(default_factory=list)
    # Seconds between autosaves; 0 turns autosave off.
    autosave_interval_s: int = 120
    # Images above this many megapixels are refused as decompression bombs.
    max_image_megapixels: int = 400
    recent_files: list[str] = field(default_factory=list)
    # The config variant the artist chose for a model whose file cannot tell
    # (an SD 2 checkpoint: "sd2" or "sd2-v"), by the model's content hash
    # (ModelInfo.short_hash), so a renamed or moved file keeps its answer.
    # Versions before this field kept the same dict among the unknown keys,
    # at the top level of the file, so their files load into it as they are.
    model_variants: dict[str, str] = field(default_factory=dict)
    # The folder each kind of file dialog was last used in (FOLDER_KINDS), so saving a
    # result does not start in the home folder while Open remembers where it was.
    last_folders: dict[str, str] = field(default_factory=dict)
    # The Ray cluster folder batches may run on: "auto" or the head's HOST:PORT; "" none.
    ray_address: str = ""
    # The folder batch dialog's PNG compression: a zlib level "0"-"9" or "fast" (fpng).
    batch_png_level: str = "3"
    # Keys written by a newer version: kept and written back untouched.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        return {**extra, **data, "version": SCHEMA_VERSION}


def _is_int_in(lo: int, hi: int):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _is_str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _is_name_map(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, str) and k and isinstance(x, str) and x for k, x in v.items())


_VALID = {
    "device": lambda v: isinstance(v, str) and (v in DEVICE_CHOICES or v.startswith("cuda:")),
    "precision": lambda v: v in PRECISION_CHOICES,
    "memory_budget_mb": _is_int_in(0, 1 << 24),
    "cpu_offload": lambda v: v in OFFLOAD_CHOICES,
    "model_folders": _is_str_list,
    "autosave_interval_s": _is_int_in(0, 24 * 3600),
    "max_image_megapixels": _is_int_in(1, 100_000),
    "recent_files": _is_str_list,
    "model_variants": _is_name_map,
    "last_folders": _is_name_map,
    "ray_address": lambda v: isinstance(v, str) and len(v) <= 300 and "\n" not in v,
    "batch_png_level": lambda v: v in (*map(str, range(10)), "fast"),
}


def from_json(data: Any) -> tuple[Settings, list[str]]:
    """Build Settings from parsed JSON, keeping every valid value."""
    notes: list[str] = []
    if not isinstance(data, dict):
        return Settings(), ["the settings file does not hold a settings object; defaults used"]
    version = data.get("version", 0)
    if version != SCHEMA_VERSION:
        notes.append(f"settings from version {version} read by version {SCHEMA_VERSION}")
    known = {f.name for f in fields(Settings)} - {"extra", "version"}
    values: dict[str, Any] = {}
    for name in known:
        if name not in data:
            continue
        if _VALID[name](data[name]):
            values[name] = data[name]
        else:
            notes.append(f"setting '{name}' had an invalid value {data[name]!r}; default used")
    extra = {k: v for k, v in data.items() if k not in known and k != "version"}
    return Settings(**values, extra=extra), notes


def update_settings(settings: Settings, new: Settings) -> None:
    """Give `settings` every value of `new`, keeping the object: the window,
    the panels and the document controller all hold the app's one Settings,
    so they all see a change made in the Settings dialog."""
    for f in fields(Settings):
        setattr(settings, f.name, getattr(new, f.name))


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """Read settings; never raises. A corrupt file is kept aside as
    `settings.json.corrupt` so nothing the user wrote is destroyed."""
    path = path or paths.settings_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(), []
    except OSError as exc:
        return Settings(), [f"could not read {path}: {exc.strerror or exc}; defaults used"]
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        backup = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, backup)
            kept = f"; the old file was kept as {backup.name}"
        except OSError:
            kept = ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        return Settings(), [f"{path} is corrupt ({reason}); defaults used{kept}"]
    return from_json(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then replace:
    a crash or a full disk leaves the old file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_settings(settings: Settings, path: Path | None = None) -> str | None:
    """Save; returns None on success or a message saying why it failed."""
    path = path or paths.settings_file()
    try:
        atomic_write_text(path, json.dumps(settings.to_json(), indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        message = f"could not save settings to {path}: {exc.strerror or exc}"
        log.warning(message)
        return message
    return None


def model_cache_budget_bytes(settings: Settings, total_memory: int) -> int:
    if settings.memory_budget_mb > 0:
        return settings.memory_budget_mb * 2**20
    return total_memory // 2


def start_folder(settings: Settings, kind: str) -> Path:
    """Where a file dialog of `kind` opens: the folder it was last used in while
    that still exists, else the folder of the most recent document, else home."""
    if kind not in FOLDER_KINDS:
        raise ValueError(f"unknown kind of folder: {kind}")
    candidates = [settings.last_folders.get(kind)]
    candidates += [str(Path(name).parent) for name in settings.recent_files[:1]]
    for folder in candidates:
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def remember_folder(settings: Settings, kind: str, chosen: Path) -> str | None:
    """Remember the folder of `chosen` (a file, or a folder) for the next dialog of
    `kind`, and save the settings; returns why saving failed, or None."""
    if kind not in FOLDER_KINDS:
        raise ValueError(f"unknown kind of folder: {kind}")
    chosen = Path(chosen)
    folder = chosen if chosen.is_dir() else chosen.parent
    settings.last_folders[kind] = str(folder.resolve())
    return save_settings(settings)
