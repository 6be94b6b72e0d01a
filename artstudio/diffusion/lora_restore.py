"""Restoring the LoRAs and embeddings a picture was made with (a dropped PNG,
a history entry): each found in the folders by name, else by its hash (a
file renamed since, or named otherwise on the machine that made it), and the
ones not found named, so the artist knows what the picture will lack.

LoRAs come back as `<lora:name:weight>` tags in the prompt, where A1111 keeps
them and where the Generate panel's LoRA list reads them; a LoRA that is not
found keeps its tag, so generating says which one is missing instead of
running silently without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from artstudio.diffusion import embeddings, loras
from artstudio.engine.errors import UserFacingError


def _tag(name: str, weight: float) -> str:
    return f"<lora:{name}:{weight:g}>"


def _find_lora(name: str, digest: str, known: list[loras.LoraInfo]) -> loras.LoraInfo | None:
    for info in known:
        if name in (info.name, info.path.name):
            return info
    if digest:  # hashing every file only when the name is not there
        for info in known:
            if loras.lora_hash(info.path) == digest.lower():
                return info
    return None


def _renamed(prompt: str, old: str, new: str) -> str:
    pattern = re.compile(r"<lora:" + re.escape(old) + r"(?=[:>])", re.IGNORECASE)
    return pattern.sub(lambda _m: f"<lora:{new}", prompt)


def restore(settings: dict[str, Any], known_loras: Iterable[loras.LoraInfo] | None = None,
            known_embeddings: dict[str, embeddings.Embedding] | None = None,
            ) -> tuple[dict[str, Any], list[str]]:
    """(`settings` with its LoRAs as prompt tags naming files found here, what
    was not found in words). `settings` as metadata.read_settings or a
    history entry gives them: `loras` as (file, weight) pairs, `lora_files` /
    `embedding_files` as {"name", "hash"} records."""
    settings = dict(settings)
    prompt = str(settings.get("prompt", ""))
    recorded = {str(e["name"]): str(e.get("hash") or "") for e in
                settings.pop("lora_files", None) or [] if isinstance(e, dict)}
    used = list(settings.pop("embedding_files", None) or [])
    fields = [(str(n), float(w)) for n, w in settings.pop("loras", None) or []]
    settings.pop("embedding_dirs", None)
    if not (recorded or used or fields or "<lora:" in prompt.lower()):
        return settings, []
    known = list(loras.find_loras() if known_loras is None else known_loras)
    missing: list[str] = []
    for name, weight in fields:  # a history entry's LoRAs chosen outside the prompt
        stem = Path(name).stem
        info = _find_lora(stem, recorded.get(stem, ""), known)
        if info is not None:
            prompt = f"{prompt} {_tag(info.name, weight)}".strip()
        elif Path(name).is_file():  # a file outside the LoRA folders, named by its path
            prompt = f"{prompt} {_tag(name, weight)}".strip()
        else:
            missing.append(f"the LoRA {stem} (not found in the LoRA folders)")
    try:
        _text, requests = loras.split_lora_tags(prompt)
    except UserFacingError as exc:
        settings["prompt"] = prompt
        return settings, [*missing, str(exc)]
    for request in requests:
        if request.name in {i.name for i in known} or Path(request.name).is_file():
            continue
        info = _find_lora(request.name, recorded.get(request.name, ""), known)
        if info is None:
            missing.append(f"the LoRA {request.name} (not found in the LoRA folders)")
        else:
            prompt = _renamed(prompt, request.name, info.name)
    settings["prompt"] = prompt
    if used:
        found = embeddings.find_embeddings() if known_embeddings is None else known_embeddings
        missing += [f"the embedding {e['name']} (not found in the embeddings folders)"
                    for e in used if isinstance(e, dict) and e.get("name") not in found]
    return settings, missing
