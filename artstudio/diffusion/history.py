"""Every generation's settings, kept in a JSON-lines file in the data folder
and searchable by prompt (the Generate panel's History tab).

An entry holds every parameter that made its images, so the same images can
be made again from the History alone: the settings, the seeds actually used,
the mode, the frame, and fingerprints of the mask and the picture it started
from (not the pixels: the history stays small). `restore_plan` says what a
double-click can restore and, in words, what it cannot.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from artstudio import paths
from artstudio.diffusion import lora_restore
from artstudio.diffusion.params import GenerationParams, params_dict
from artstudio.document import Rect

log = logging.getLogger(__name__)

HISTORY_FILE = "generation-history.jsonl"
HISTORY_KEEP = 1000


@dataclass
class HistoryEntry:
    time: float
    settings: dict[str, Any]
    model: str
    seeds: list[int] = field(default_factory=list)

    @classmethod
    def of_generation(cls, params: GenerationParams, seeds: list[int],
                      frame: Rect | None = None) -> HistoryEntry:
        """The entry for a finished generation: the settings JSON can hold,
        the mode, the frame it was made for, fingerprints of its mask and
        starting picture (no images), and the seeds it used."""
        settings = {k: v for k, v in params_dict(params).items()
                    if isinstance(v, str | int | float | bool | type(None))}
        settings["mode"] = params.mode
        if params.loras:
            settings["loras"] = [[str(name), float(weight)] for name, weight in params.loras]
        if params.outpaint:
            settings["outpaint"] = [int(v) for v in params.outpaint]
        if frame is not None:
            settings["frame"] = [int(v) for v in frame]
        if params.mask is not None:
            settings["mask_digest"] = pixels_digest(params.mask)
        if params.init_image is not None:
            settings["picture_digest"] = pixels_digest(params.init_image)
        return cls(time.time(), settings, params.model, list(seeds))

    @property
    def label(self) -> str:
        prompt = str(self.settings.get("prompt", "")).replace("\n", " ")
        when = time.strftime("%m-%d %H:%M", time.localtime(self.time))
        seeds = ", ".join(str(s) for s in self.seeds[:3])
        return f"{when}  {prompt[:60] or '(no prompt)'}  [seed {seeds}]"


class GenerationHistory:
    """Every generation's settings, appended to a JSON-lines file in the data folder."""

    def __init__(self, path: Path | None = None):
        self.path = path or paths.data_dir() / HISTORY_FILE
        self.entries: list[HistoryEntry] = []
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()[-HISTORY_KEEP:]
        except OSError:
            return
        for line in lines:
            try:
                data = json.loads(line)
                self.entries.append(HistoryEntry(float(data["time"]), dict(data["settings"]),
                                                 str(data.get("model", "")),
                                                 [int(s) for s in data.get("seeds", [])]))
            except (ValueError, KeyError, TypeError):
                continue  # one damaged line does not lose the rest

    def add(self, entry: HistoryEntry) -> None:
        self.entries.append(entry)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"time": entry.time, "settings": entry.settings,
                                     "model": entry.model, "seeds": entry.seeds},
                                    default=str) + "\n")
        except OSError as exc:
            log.warning("could not write the generation history: %s", exc)

    def search(self, text: str) -> list[HistoryEntry]:
        words = text.lower().split()
        return [e for e in reversed(self.entries)
                if all(w in str(e.settings.get("prompt", "")).lower() for w in words)]


def pixels_digest(image: Any) -> str:
    """A fingerprint of pixels (a PIL image or an array) that says later
    whether they are still the same, without keeping them."""
    array = np.ascontiguousarray(np.asarray(image))
    digest = hashlib.blake2b(array.tobytes(), digest_size=16)
    digest.update(repr((array.shape, str(array.dtype))).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class RestorePlan:
    """What restoring an entry sets, and what it cannot restore (in words)."""

    settings: dict[str, Any]  # for the Generate panel's controls (apply_settings keys)
    model: str | None  # the model file to choose (one found now), None when missing
    frame: Rect | None  # the frame to set on the document, None to keep the current one
    match_frame: bool  # generate at the frame's size (else settings' width x height)
    not_restored: list[str]


def _frame_of(settings: dict[str, Any]) -> Rect | None:
    try:
        x, y, w, h = (int(v) for v in settings["frame"])
    except (KeyError, TypeError, ValueError):
        return None
    return Rect(x, y, w, h) if w > 0 and h > 0 else None


def restore_plan(entry: HistoryEntry, canvas: Rect | None, frame: Rect | None,
                 models: Iterable[str | Path]) -> RestorePlan:
    """How to make `entry`'s images again on a canvas of rect `canvas` whose
    frame is `frame` now (None for both: no document open), choosing among
    the model files in `models`."""
    settings, missing = lora_restore.restore(entry.settings)
    if "mode" not in settings:
        missing.append("the mode (not recorded by this older entry)")
    count = int(settings.get("count", 1) or 1)
    if entry.seeds:
        settings["seed"] = entry.seeds[0]  # a fixed seed, never Random again
        if settings.get("seed_mode") == "random" and count > 1:
            missing.append(f"the seeds of images 2-{count} (they were random)")
    elif settings.get("seed") is None:
        missing.append("the seed (not recorded)")

    model = _find_model(entry.model, models)
    if model is None:
        missing.append(f"the model {Path(entry.model).name or '(none)'} (not found "
                       "in the model folders)")

    made_for = _frame_of(settings)
    size = (settings.get("width"), settings.get("height"))
    match_frame = made_for is not None and size == (made_for.w, made_for.h)
    new_frame = None
    if settings.get("mode") == "outpaint":
        match_frame = True  # outpainting always works on the whole canvas
    elif made_for is None:
        match_frame = False
        if settings.get("mode") in ("img2img", "inpaint"):
            missing.append("the frame (not recorded)")
    elif canvas is None:
        missing.append("the frame (no document open)")
    elif made_for.intersect(canvas) == made_for:
        new_frame = None if made_for == frame else made_for
    else:
        missing.append(f"the frame {made_for.w}x{made_for.h} at {made_for.x},{made_for.y} "
                       "(it does not fit this canvas)")
        if match_frame and settings.get("mode") == "txt2img":
            match_frame = False  # the size can still be kept
    return RestorePlan(settings, model, new_frame, match_frame, missing)


def _find_model(wanted: str, models: Iterable[str | Path]) -> str | None:
    """The same file if it is still there, else one of the same name."""
    if not wanted:
        return None
    models = [str(m) for m in models]
    if wanted in models:
        return wanted
    name = Path(wanted).stem
    return next((m for m in models if Path(m).stem == name), None)


def changed_inputs(entry: HistoryEntry, mask: Any = None, picture: Any = None) -> list[str]:
    """What an entry started from that is no longer on the canvas: `mask`
    and `picture` are what a generation at the entry's frame would take now
    (None: nothing there, e.g. no document)."""
    settings = entry.settings
    changed = []
    if "mask_digest" in settings and (
            mask is None or pixels_digest(mask) != settings["mask_digest"]):
        changed.append("the mask it was made with (it is no longer on the canvas)")
    if "picture_digest" in settings and (
            picture is None or pixels_digest(picture) != settings["picture_digest"]):
        changed.append("the picture it started from (the canvas changed since)")
    return changed
