"""Every generation's settings, kept in a JSON-lines file in the data folder
and searchable by prompt (the Generate panel's History tab)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artstudio import paths
from artstudio.diffusion.params import GenerationParams, params_dict

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
    def of_generation(cls, params: GenerationParams, seeds: list[int]) -> HistoryEntry:
        """The entry for a finished generation: the settings JSON can hold
        (no images) and the seeds it used."""
        settings = {k: v for k, v in params_dict(params).items()
                    if isinstance(v, str | int | float | bool | type(None))}
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
