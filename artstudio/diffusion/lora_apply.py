"""Applying LoRAs to a loaded pipeline: each file loaded once as a named
adapter (diffusers and PEFT convert the kohya / A1111 layouts), then only the
weights set, so switching LoRAs or weights never reloads the base model."""

from __future__ import annotations

from collections.abc import Sequence

from artstudio.diffusion.loras import LoraInfo, lora_hash
from artstudio.engine.errors import UserFacingError
from artstudio.model_files import safe_load


def adapter_name(info: LoraInfo) -> str:
    # the content hash, so two files of the same name never share an adapter
    return f"lora_{lora_hash(info.path)}"


def loaded_adapters(pipe) -> set[str]:
    try:
        listed = pipe.get_list_adapters()
    except (AttributeError, ValueError):
        return set()
    return {name for names in listed.values() for name in names}


def apply_loras(pipe, chosen: Sequence[tuple[LoraInfo, float]], family: str) -> list[str]:
    """Make `chosen` (LoRA, weight) the pipeline's active LoRAs and return
    their adapter names; an empty choice switches every loaded LoRA off."""
    for info, _weight in chosen:
        reason = info.unusable_with(family)
        if reason:
            raise UserFacingError(reason)
    names = [adapter_name(info) for info, _w in chosen]
    have = loaded_adapters(pipe)
    for (info, _weight), name in zip(chosen, names, strict=True):
        if name in have:
            continue
        state = safe_load.load_state_dict(info.path)
        try:
            pipe.load_lora_weights(state, adapter_name=name)
        except (ValueError, KeyError, RuntimeError) as exc:
            raise UserFacingError(f"The LoRA {info.name} could not be applied to this model: "
                                  f"{str(exc)[:200]}") from exc
        have.add(name)
    if not names:
        if have:
            pipe.disable_lora()
        return []
    pipe.enable_lora()
    pipe.set_adapters(names, adapter_weights=[float(w) for _i, w in chosen])
    return names
