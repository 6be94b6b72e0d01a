"""What a generation request adds to the loaded model beyond its plain prompt:
LoRAs (the `loras` field and the prompt's `<lora:name:weight>` tags),
textual-inversion embeddings named in the prompts, and A1111 prompt weights.

`resolve` runs once per request, before any step: names are found, families
checked, and a LoRA that cannot be used is refused by name rather than left
out. `condition` runs before every pipeline call and sets the model to what
that call asks (adapters loaded once, then only their weights set), so a
call without LoRAs never inherits the previous one's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from artstudio.diffusion import embeddings, lora_apply, loras, prompt_weighting
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.errors import UserFacingError


@dataclass(frozen=True)
class Extras:
    params: GenerationParams  # the prompt without tags; loras as (file, weight), merged
    loras: tuple[tuple[loras.LoraInfo, float], ...]
    embeddings: tuple[embeddings.Embedding, ...]
    notes: tuple[str, ...]
    tagged_prompt: str  # the prompt as A1111 writes it: every LoRA as a <lora:name:w> tag

    @property
    def metadata(self) -> dict[str, Any]:
        """What the image's metadata adds (see metadata.a1111_text)."""
        meta: dict[str, Any] = {"prompt": self.tagged_prompt}
        if self.loras:
            meta["loras"] = [{"name": info.name, "weight": weight, "path": str(info.path),
                              "hash": loras.lora_hash(info.path)} for info, weight in self.loras]
        if self.embeddings:
            meta["embeddings"] = [{"name": e.name, "path": str(e.path),
                                   "hash": embeddings.embedding_hash(e.path)}
                                  for e in self.embeddings]
        return meta


def lora_tag(name: str, weight: float) -> str:
    return f"<lora:{name}:{weight:g}>"


class _Known:
    """The LoRA folders' contents, scanned only when a request names a LoRA
    by name rather than by file."""

    def __init__(self):
        self._found: list[loras.LoraInfo] | None = None

    def __iter__(self):
        if self._found is None:
            self._found = loras.find_loras()
        return iter(self._found)


def _chosen_loras(fields: Iterable[loras.LoraRequest], tags: Iterable[loras.LoraRequest],
                  family: str) -> dict[Path, tuple[loras.LoraInfo, float, bool]]:
    """{file: (LoRA, weight, named by a tag in the prompt)}; a tag overrides
    the field's weight for the same file."""
    known = _Known()
    chosen: dict[Path, tuple[loras.LoraInfo, float, bool]] = {}
    for from_tag, requests in ((False, fields), (True, tags)):
        for request in requests:
            info = loras.resolve_request(request, known)
            reason = info.unusable_with(family)
            if reason:
                raise UserFacingError(reason)
            chosen[info.path.resolve()] = (info, request.weight, from_tag)
    return chosen


def _embeddings_used(p: GenerationParams, family: str, negative: str,
                     prompt: str) -> list[embeddings.Embedding]:
    if family not in embeddings.EMBEDDING_FAMILIES:
        if p.embedding_dirs:
            raise UserFacingError("Textual-inversion embeddings work with Stable Diffusion "
                                  "1.x, 2.x and SDXL models only.")
        return []
    known = embeddings.find_embeddings(embeddings.embedding_roots(p.embedding_dirs))
    return embeddings.used_in([prompt, negative], known)


def resolve(p: GenerationParams, family: str, negative_prompt: bool = True) -> Extras:
    """The request's LoRAs and embeddings found and checked for `family`;
    UserFacingError names what is missing or does not fit. `negative_prompt`:
    whether the family reads one."""
    text, tagged = loras.split_lora_tags(p.prompt)
    fields = [loras.LoraRequest(str(name), float(weight)) for name, weight in p.loras]
    found = _chosen_loras(fields, tagged, family)
    chosen = [(info, weight) for info, weight, _tag in found.values()]
    negative = p.negative_prompt if negative_prompt else ""
    used = _embeddings_used(p, family, negative, text)
    notes = []
    if family not in prompt_weighting.WEIGHTED_FAMILIES and any(
            prompt_weighting.has_weights(t) for t in (text, negative)):
        notes.append("This model reads the prompt as plain text: (word:1.3) weights and "
                     "BREAK are not applied.")
    clean = replace(p, prompt=text, loras=tuple((str(i.path), w) for i, w in chosen))
    # LoRAs chosen outside the prompt join it as tags, so A1111 reads them too
    tags = " ".join(lora_tag(i.name, w) for i, w, from_tag in found.values() if not from_tag)
    tagged = f"{p.prompt} {tags}".strip() if tags else p.prompt
    return Extras(clean, tuple(chosen), tuple(used), tuple(notes), tagged)


def check_files(extras: Extras) -> None:
    """Read what the request names before a model loads, so a command line
    refuses it up front: an embedding must open through the safe loaders."""
    for embedding in extras.embeddings:
        embeddings.read_vectors(embedding)


def condition(model, pipe, p: GenerationParams,
              overrides: dict[str, Any] | None) -> dict[str, Any] | None:
    """Set `model` to `p`'s LoRAs and embeddings and return the pipeline
    arguments with weighted prompt embeddings where the prompts need them
    (`overrides` that bring their own embeddings are left as they are)."""
    spec = model.family_spec
    extras = resolve(p, spec.name, spec.negative_prompt)
    if extras.loras and not hasattr(model.pipe, "load_lora_weights"):
        raise UserFacingError(f"{model.info.name} does not take LoRAs.")
    lora_apply.apply_loras(model.pipe, extras.loras, spec.name)
    embeddings.load_embeddings(model.pipe, spec.name, extras.embeddings)
    if overrides and "prompt_embeds" in overrides:
        return overrides
    prompt = extras.params.prompt
    negative = p.negative_prompt if spec.negative_prompt else ""
    if not prompt_weighting.needed(pipe, spec.name, prompt, negative):
        if prompt != p.prompt:  # a caller that passed the tags: the pipeline reads none
            return {"prompt": prompt, **(overrides or {})}
        return overrides
    weighted = prompt_weighting.prompt_overrides(pipe, spec.name, prompt, negative,
                                                 guided=p.cfg_scale > 1)
    return {**weighted, **(overrides or {})}
