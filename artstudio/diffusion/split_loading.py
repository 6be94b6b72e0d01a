"""Loading a split model (model_files.component_sets.ComponentSet) into a
diffusers pipeline, offline.

The config folder (beside the transformer file with the same stem, else the
variant's shipped one) names every class: the pipeline in model_index.json,
the transformer, text encoders and VAE in their config.json. Each part is read
by the safe loaders and upcast to the compute type (fp8 and bf16 files
included); a GGUF transformer stays quantised through diffusers' GGUF support.
Text encoders are built on the meta device and their weights assigned, so
T5-XXL's 4.7 billion numbers are never initialised at random first. The
tokenizers and the scheduler come from the config folder. Family-agnostic:
FLUX.1, SD3, Z-Image and FLUX.2 Klein sets load the same way; the slots'
order is the pipeline's (text_encoder, text_encoder_2, text_encoder_3).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from artstudio.diffusion import text_tokenizers
from artstudio.engine.errors import UserFacingError
from artstudio.model_files import gguf_files, weight_dtypes
from artstudio.model_files.component_sets import ComponentSet
from artstudio.model_files.components import EMBEDDED_VAE, VAE
from artstudio.model_files.tensor_table import is_gguf

log = logging.getLogger(__name__)

_TEXT_ENCODER_NAMES = ("text_encoder", "text_encoder_2", "text_encoder_3")
_TOKENIZER_NAMES = ("tokenizer", "tokenizer_2", "tokenizer_3")
# The layers above a text model that some files keep and transformers' classes do not
# (or the other way round): ComfyUI's CLIP files keep `text_model.`, Qwen3 files `model.`.
_WRAPPERS = ("text_model.", "model.")


def _read_config(config_dir: Path, subfolder: str) -> dict:
    path = config_dir / subfolder / "config.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserFacingError(f"The configuration {path} is missing or unreadable.") from exc


def _fit_names(weights: dict, wanted: set[str]) -> dict:
    """The file's names mapped onto the model's, adding or removing one wrapper level."""
    if any(k in wanted for k in weights):
        return weights
    for wrapper in _WRAPPERS:
        stripped = {k.removeprefix(wrapper): v for k, v in weights.items()}
        if any(k in wanted for k in stripped):
            return stripped
        added = {wrapper + k: v for k, v in weights.items()}
        if any(k in wanted for k in added):
            return added
    return weights


def build_text_encoder(config_dir: Path, subfolder: str, path: Path, dtype) -> Any:
    """A transformers text encoder from its config and a part file."""
    import transformers
    from accelerate import init_empty_weights

    config = _read_config(config_dir, subfolder)
    cls = getattr(transformers, (config.get("architectures") or ["?"])[0], None)
    if cls is None:
        raise UserFacingError(f"{config_dir / subfolder} names no text encoder class.")
    settings = cls.config_class.from_pretrained(str(config_dir / subfolder),
                                                local_files_only=True)
    with init_empty_weights():
        model = cls(settings)
    wanted = set(model.state_dict())
    weights = _fit_names(weight_dtypes.load_state_dict_as(path, dtype), wanted)
    if "shared.weight" in wanted and "shared.weight" not in weights and (
            "encoder.embed_tokens.weight" in weights):  # T5 stores its input embedding once
        weights["shared.weight"] = weights["encoder.embed_tokens.weight"]
    weights = {k: v for k, v in weights.items() if k in wanted}
    tied = {"encoder.embed_tokens.weight"} if "shared.weight" in weights else set()
    missing = wanted - set(weights) - tied
    if missing:
        raise UserFacingError(
            f"{path.name} does not fit the {subfolder} configuration: it lacks "
            f"{sorted(missing)[0]} and {len(missing) - 1} more tensors.")
    model.load_state_dict(weights, strict=False, assign=True)
    if tied:
        model.encoder.embed_tokens = model.shared
    return model.to(dtype).eval()


def _model_class(config_dir: Path, subfolder: str):
    import diffusers

    name = _read_config(config_dir, subfolder).get("_class_name", "")
    cls = getattr(diffusers, name, None)
    if cls is None:
        raise UserFacingError(f"{config_dir / subfolder} names an unknown model class {name!r}.")
    return cls


def _from_state(cls, state: dict, name: str, config_dir: Path, subfolder: str, dtype) -> Any:
    try:
        return cls.from_single_file(state, config=str(config_dir), subfolder=subfolder,
                                    torch_dtype=dtype, local_files_only=True)
    except (ValueError, RuntimeError, KeyError) as exc:
        raise UserFacingError(f"{name} does not fit the {subfolder} configuration: "
                              f"{str(exc)[:200]}") from exc


def _from_file(cls, path: Path, config_dir: Path, subfolder: str, dtype) -> Any:
    if is_gguf(path):
        return gguf_files.load_transformer(cls, path, config_dir, subfolder, dtype)
    # A state dict, not the path: fp8 and scaled fp8 files are upcast by our loader first.
    return _from_state(cls, weight_dtypes.load_state_dict_as(path, dtype), path.name,
                       config_dir, subfolder, dtype)


def _vae_taken_out(path: Path, dtype) -> tuple[dict, dict]:
    """(the diffusion model's tensors, the VAE's) of a file that holds both
    (SD3.5's files from Stability, some FLUX ones), each without its prefix."""
    state = weight_dtypes.load_state_dict_as(path, dtype)
    vae: dict = {}
    for prefix in EMBEDDED_VAE:
        vae.update({k[len(prefix):]: state.pop(k) for k in list(state) if k.startswith(prefix)})
    return state, vae


def load_split_pipeline(found: ComponentSet, config_dir: Path, dtype) -> Any:
    """The pipeline of `found` (complete: check `found.problem()` first)."""
    import diffusers

    if not found.complete:
        raise UserFacingError(found.problem())
    index = json.loads((config_dir / "model_index.json").read_text(encoding="utf-8"))
    pipeline_cls = getattr(diffusers, index["_class_name"])
    transformer_cls = _model_class(config_dir, "transformer")
    parts: dict[str, Any] = {}
    name = found.transformer.name
    if found.vae is None and VAE in found.inside and not is_gguf(found.transformer):
        weights, vae_weights = _vae_taken_out(found.transformer, dtype)
        parts["transformer"] = _from_state(transformer_cls, weights, name, config_dir,
                                           "transformer", dtype)
        del weights
        parts["vae"] = _from_state(_model_class(config_dir, "vae"), vae_weights, name,
                                   config_dir, "vae", dtype)
    elif found.vae is None:
        raise UserFacingError(f"{name} has no VAE beside it or inside it.")
    else:
        parts["transformer"] = _from_file(transformer_cls, found.transformer, config_dir,
                                          "transformer", dtype)
        parts["vae"] = _from_file(_model_class(config_dir, "vae"), found.vae, config_dir,
                                  "vae", dtype)
    encoder_slots = [s for s in index if s in _TEXT_ENCODER_NAMES]
    given = dict(found.text_encoders)
    kinds = [kind for kind, _path in found.text_encoders]
    # Slots in the order the set lists them; a missing optional one (SD3's T5) is None.
    ordered = kinds + [None] * (len(encoder_slots) - len(kinds))
    for slot, tokenizer, kind in zip(_TEXT_ENCODER_NAMES, _TOKENIZER_NAMES, ordered,
                                     strict=False):
        if slot not in encoder_slots:
            continue
        if kind is None:
            parts[slot], parts[tokenizer] = None, None
        else:
            parts[slot] = build_text_encoder(config_dir, slot, given[kind], dtype)
    for name in _TOKENIZER_NAMES:  # a shipped config folder holds only their settings
        if name in index and parts.get(name, True) is not None:
            shipped = text_tokenizers.load_for_config(config_dir, name, found.transformer)
            if shipped is not None:
                parts[name] = shipped
    log.info("assembled %s", found.label)
    return pipeline_cls.from_pretrained(str(config_dir), local_files_only=True, dtype=dtype,
                                        **parts)


def part_files(found: ComponentSet) -> list[Path]:
    return [found.transformer, *(p for _kind, p in found.text_encoders),
            *([found.vae] if found.vae is not None else [])]


def load_split_model(path: Path, text_encoders: tuple[str, ...], vae: str | None,
                     config_dir: Path, device: str, dtype_name: str, dtype,
                     offload: bool) -> Any:
    """Assemble the set for the transformer at `path` (named parts first), check
    that it fits in memory, then load it: every refusal comes before a weight is read."""
    from artstudio.model_files import memory
    from artstudio.model_files.component_sets import assemble

    found = assemble(path, text_encoders, vae or None)
    if not found.complete:
        raise UserFacingError(found.problem())
    memory.check_memory(memory.estimate_files(part_files(found), dtype_name), device,
                        offload=offload)
    return load_split_pipeline(found, config_dir, dtype)
