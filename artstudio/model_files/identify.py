"""Identifying model files by reading them, never by their names.

Diffusers folders are identified from `model_index.json` and the component
configs; single `.safetensors` files from their header's tensor names and
shapes (a few kilobytes read, no weights loaded). Pickle formats are only
opened through the safe loader. Which family a file belongs to is asked of
the family registry (artstudio.diffusion.families); upscalers are recognised
here. Anything unreadable becomes a ModelInfo with kind "invalid" and a
reason, so a library scan never fails as a whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.diffusion import families
from artstudio.diffusion.families.flux import KONTEXT_NOTE
from artstudio.engine.errors import UserFacingError
from artstudio.engine.file_kinds import not_regular_reason
from artstudio.model_files import components, safe_load, tensor_table
from artstudio.model_files.component_sets import ComponentSet

log = logging.getLogger(__name__)

MODEL_SUFFIXES = (safe_load.SAFETENSORS_SUFFIXES + tensor_table.GGUF_SUFFIXES
                  + safe_load.PICKLE_SUFFIXES)


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    # a family's kind ("sd1-inpaint", "sdxl-base", "flux-dev" ...), "upscaler", "component"
    # (a text encoder or VAE of a split model), "unknown", "invalid"
    kind: str
    family: str  # a family's name, "upscaler", or "" when unknown
    # "diffusers", "single-file", or "split": a diffusion model whose encoders or VAE
    # are separate files (see component_sets)
    format: str
    size: int  # bytes on disk (whole folder for diffusers)
    short_hash: str  # 12 hex digits, fast: see quick_hash
    prediction: str = ""  # "epsilon", "v_prediction" or "" when the file cannot tell
    notes: tuple[str, ...] = field(default_factory=tuple)
    part: components.Part | None = None  # what a split part is, from its tensors
    components: ComponentSet | None = None  # a split model's parts, when a scan assembled them

    @property
    def name(self) -> str:
        return self.path.name if self.format == "diffusers" else self.path.stem

    @property
    def is_diffusion(self) -> bool:
        return families.family_of_kind(self.kind) is not None

    @property
    def needs_variant_choice(self) -> bool:
        """Some files cannot say which variant they are (SD2: 512 px noise
        prediction or 768 px velocity); the UI asks the artist once and remembers."""
        return self.kind in families.ambiguous_kinds() and not self.prediction


# Kinds of the families whose files may not say their prediction type (SD2 and
# its inpainting model): an A1111 yaml beside the file can.
_YAML_PREDICTION_KINDS = frozenset(
    kind for ambiguous in families.ambiguous_kinds()
    for kind in families.family_of_kind(ambiguous).kinds)


# SDXL fine-tunes that predict velocity (NoobAI-XL V-Pred and its merges)
_NAMED_VPRED_KINDS = frozenset({"sdxl-base"})
_VPRED_NAME = re.compile(r"v[-_ ]?pred", re.IGNORECASE)
# Variants whose tensors are another's, told apart by the names they are shipped
# under (BFL's flux1-kontext-dev, ComfyUI's flux1-dev-kontext_fp8_scaled)
# (the pattern, the kind it names, the notes it answers)
_NAMED_KINDS = {"flux-dev": (re.compile(r"kontext", re.IGNORECASE), "flux-kontext",
                             (KONTEXT_NOTE, components.DEV_OR_KONTEXT))}


def _kind_from_name(kind: str, stem: str, notes: list[str]) -> str:
    named = _NAMED_KINDS.get(kind)
    if named is None or not named[0].search(stem):
        return kind
    _pattern, named_kind, answered = named
    notes[:] = [n for n in notes if n not in answered]
    notes.append(f"{named_kind}, from the file name")
    return named_kind


def family_of(kind: str) -> str:
    spec = families.family_of_kind(kind)
    if spec is not None:
        return spec.name
    return "upscaler" if kind == "upscaler" else ""


def quick_hash(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of the size, the first and the last MiB: enough to tell files
    apart in a library and to recognise a model in PNG metadata, in
    milliseconds even for 7 GB checkpoints. Not a security check."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with path.open("rb") as f:
        h.update(f.read(chunk))
        if size > 2 * chunk:
            f.seek(size - chunk)
            h.update(f.read(chunk))
    return h.hexdigest()[:12]


def _folder_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*.json")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def _folder_size(folder: Path) -> int:
    total = 0
    for p in folder.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size  # stat follows the hub cache's blob links
        except OSError:
            pass
    return total


# ---- single files -------------------------------------------------------------

def _looks_like_upscaler(keys: Iterable[str]) -> bool:
    keys = list(keys)
    markers = ("conv_first.weight", "body.0.rdb1.conv1.weight", "model.0.weight",
               "conv_up1.weight", "upsampler.0.weight", "conv_after_body.weight")
    return any(k in keys for k in markers) or any(
        re.match(r"^(model\.1\.sub\.0|body\.\d+\.)", k) for k in keys)


def classify_state_keys(shapes: Mapping[str, tuple[int, ...]]) -> tuple[str, str, list[str]]:
    """(kind, prediction, notes) from tensor names and shapes alone."""
    for recognise_checkpoint, _folder in families.recognisers():
        found = recognise_checkpoint(shapes)
        if found is not None:
            return found
    notes: list[str] = []
    if _looks_like_upscaler(shapes):
        return "upscaler", "", notes
    if any(k.startswith("first_stage_model.") or k.startswith("encoder.down") for k in shapes):
        notes.append("looks like a VAE alone, not a full checkpoint")
    return "unknown", "", notes


def _prediction_from_yaml(yaml_path: Path) -> str:
    """An A1111-style config beside an SD2 checkpoint says `parameterization: "v"`."""
    try:
        text = yaml_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "v_prediction" if re.search(r"parameterization:\s*['\"]?v['\"]?\s*$", text,
                                       re.MULTILINE) else ""


def identify_file(path: Path) -> ModelInfo:
    path = Path(path)
    reason = not_regular_reason(path)  # a named pipe would block the read below
    if reason is not None:
        return ModelInfo(path, "invalid", "", "single-file", 0, "", notes=(reason,))
    try:
        size = path.stat().st_size
        short = quick_hash(path)
    except OSError as exc:
        return ModelInfo(path, "invalid", "", "single-file", 0, "", notes=(str(exc),))
    try:
        if path.suffix.lower() in safe_load.PICKLE_SUFFIXES:
            shapes = safe_load.read_keys_and_shapes(path)
        else:
            shapes = tensor_table.shapes_of(tensor_table.read_tensor_table(path))
    except UserFacingError as exc:
        return ModelInfo(path, "invalid", "", "single-file", size, short, notes=(str(exc),))
    part = components.recognise_part(shapes)
    # an all-in-one file lacking only an optional part (SD3 without T5) is the family's to load
    if part is not None and (part.role != components.DIFFUSION
                             or any(not slot.optional for slot in part.missing_slots)):
        return _split_part_info(path, size, short, part)
    kind, prediction, notes = classify_state_keys(shapes)
    override = path.with_suffix("")
    if (override / "model_index.json").is_file():
        folder = identify_diffusers_folder(override, require_weights=False)
        if folder.is_diffusion:
            notes.append(f"configured by the folder {override.name}/ beside it")
            kind, prediction = folder.kind, folder.prediction or prediction
    kind = _kind_from_name(kind, path.stem, notes)
    if kind in _NAMED_VPRED_KINDS and prediction == "epsilon" and _VPRED_NAME.search(path.stem):
        prediction = "v_prediction"  # v-pred merges often lose the marker key but keep the name
        notes.append("v-prediction, from the file name")
    yaml_path = path.with_suffix(".yaml")
    if yaml_path.is_file() and kind in _YAML_PREDICTION_KINDS:
        prediction = _prediction_from_yaml(yaml_path) or "epsilon"
        notes.append(f"prediction type from {yaml_path.name}")
    return ModelInfo(path, kind, family_of(kind), "single-file", size, short, prediction,
                     tuple(notes))


def _split_part_info(path: Path, size: int, short: str,
                     part: components.Part) -> ModelInfo:
    """A diffusion model that needs separate encoders or a VAE, or one of those parts."""
    if part.role != components.DIFFUSION:
        return ModelInfo(path, "component", "", "single-file", size, short,
                         notes=(f"a {part.label}, used with a diffusion model", *part.notes),
                         part=part)
    kind, notes = part.kind, list(part.notes)
    kind = _kind_from_name(kind, path.stem, notes)
    override = path.with_suffix("")
    if (override / "model_index.json").is_file():  # says Kontext where the tensors cannot
        folder = identify_diffusers_folder(override, require_weights=False)
        if folder.family == part.family:
            kind = folder.kind
            notes = [f"configured by the folder {override.name}/ beside it"]
    return ModelInfo(path, kind, part.family, "split", size, short, notes=tuple(notes),
                     part=part)


# ---- diffusers folders ---------------------------------------------------------

def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _folder_configs(folder: Path, index: dict) -> families.FolderConfigs:
    components = {}
    for config in sorted(folder.glob("*/config.json")):
        components[config.parent.name] = _read_json(config)
    return families.FolderConfigs(
        index=index, components=components,
        scheduler=_read_json(folder / "scheduler" / "scheduler_config.json"))


def classify_diffusers_configs(configs: families.FolderConfigs) -> tuple[str, str, list[str]]:
    cls = str(configs.index.get("_class_name", ""))
    prediction = configs.scheduler.get("prediction_type", "") or ""
    unet = configs.component("unet")
    if cls == "StableDiffusionUpscalePipeline" or unet.get("in_channels") == 7:
        return "upscaler", prediction, []  # Stable Diffusion's x4 upscaler
    for _checkpoint, recognise_folder in families.recognisers():
        found = recognise_folder(configs)
        if found is not None:
            return found
    return "unknown", "", [f"{cls or 'pipeline'} is not a model family Artstudio knows"]


def identify_diffusers_folder(folder: Path, require_weights: bool = True) -> ModelInfo:
    """A diffusers folder; `require_weights=False` for config-only folders that
    sit beside a single-file checkpoint."""
    folder = Path(folder)
    index = _read_json(folder / "model_index.json")
    size = _folder_size(folder)
    if not index:
        return ModelInfo(folder, "invalid", "", "diffusers", size, "",
                         notes=("model_index.json is missing or unreadable",))
    kind, prediction, notes = classify_diffusers_configs(_folder_configs(folder, index))
    spec = families.family_of_kind(kind)
    denoiser = folder / (spec.denoiser if spec else "unet")
    if require_weights and kind != "unknown" and not any(
            denoiser.glob("*.safetensors")) and not any(denoiser.glob("*.bin")):
        label = "UNet" if denoiser.name == "unet" else denoiser.name
        notes.append(f"the {label} has no weights file")
        kind = "invalid"
    return ModelInfo(folder, kind, family_of(kind), "diffusers", size, _folder_hash(folder),
                     prediction, tuple(notes))


def identify(path: str | os.PathLike) -> ModelInfo:
    """Identify one file or diffusers folder by reading it."""
    path = Path(path)
    if path.is_dir():
        return identify_diffusers_folder(path)
    return identify_file(path)
