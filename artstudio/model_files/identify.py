"""Finding and identifying model files by reading them, never by their names.

Diffusers folders are identified from `model_index.json` and the component
configs; single `.safetensors` files from their header's tensor names and
shapes (a few kilobytes read, no weights loaded). Pickle formats are only
opened through the safe loader. Anything unreadable becomes a ModelInfo with
kind "invalid" and a reason, so a library scan never fails as a whole.
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

from artstudio.engine.errors import UserFacingError
from artstudio.model_files import safe_load

log = logging.getLogger(__name__)

KINDS = ("sd1", "sd1-inpaint", "sd2", "sd2-inpaint", "sdxl-base", "sdxl-inpaint",
         "sdxl-refiner", "upscaler", "unknown", "invalid")
DIFFUSION_KINDS = KINDS[:7]
MODEL_SUFFIXES = safe_load.SAFETENSORS_SUFFIXES + safe_load.PICKLE_SUFFIXES
# Where model managers keep their files, relative to an install's root.
KNOWN_SUBFOLDERS = ("models/Stable-diffusion", "models/ESRGAN", "models/RealESRGAN",
                    "models/checkpoints", "models/upscale_models", "models/diffusers",
                    "Stable-diffusion", "ESRGAN", "checkpoints", "upscale_models")
UNET = "model.diffusion_model."


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    kind: str  # one of KINDS
    family: str  # "sd1", "sd2", "sdxl", "upscaler", "" when unknown
    format: str  # "diffusers" or "single-file"
    size: int  # bytes on disk (whole folder for diffusers)
    short_hash: str  # 12 hex digits, fast: see quick_hash
    prediction: str = ""  # "epsilon", "v_prediction" or "" when the file cannot tell
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.stem if self.format == "single-file" else self.path.name

    @property
    def is_diffusion(self) -> bool:
        return self.kind in DIFFUSION_KINDS

    @property
    def is_inpaint(self) -> bool:
        return self.kind.endswith("-inpaint")

    @property
    def needs_variant_choice(self) -> bool:
        """SD2 checkpoints cannot say whether they predict noise (512 px base)
        or velocity (768 px); the UI asks the artist once and remembers."""
        return self.kind == "sd2" and not self.prediction


def family_of(kind: str) -> str:
    for fam in ("sdxl", "sd1", "sd2"):
        if kind.startswith(fam):
            return fam
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

def _cross_attention_dim(shapes: Mapping[str, tuple[int, ...]]) -> int | None:
    for key, shape in shapes.items():
        if key.startswith(UNET) and key.endswith("attn2.to_k.weight") and len(shape) == 2:
            return shape[1]
    return None


def _looks_like_upscaler(keys: Iterable[str]) -> bool:
    keys = list(keys)
    markers = ("conv_first.weight", "body.0.rdb1.conv1.weight", "model.0.weight",
               "conv_up1.weight", "upsampler.0.weight", "conv_after_body.weight")
    return any(k in keys for k in markers) or any(
        re.match(r"^(model\.1\.sub\.0|body\.\d+\.)", k) for k in keys)


def classify_state_keys(shapes: Mapping[str, tuple[int, ...]]) -> tuple[str, str, list[str]]:
    """(kind, prediction, notes) from tensor names and shapes alone.

    Text-encoder layouts decide the family first (they do not depend on model
    size, so tiny test models classify like real ones); the UNet's
    cross-attention width is the fallback for files without text encoders."""
    notes: list[str] = []
    if not any(k.startswith(UNET) for k in shapes):
        if _looks_like_upscaler(shapes):
            return "upscaler", "", notes
        if any(k.startswith("first_stage_model.") or k.startswith("encoder.down") for k in shapes):
            notes.append("looks like a VAE alone, not a full checkpoint")
        return "unknown", "", notes
    conv_in = shapes.get(UNET + "input_blocks.0.0.weight", ())
    in_channels = conv_in[1] if len(conv_in) == 4 else 4
    cross = _cross_attention_dim(shapes)
    has = lambda prefix: any(k.startswith(prefix) for k in shapes)  # noqa: E731
    if has("conditioner.embedders.1.model.") or (
            has("conditioner.embedders.0.transformer.") and has(UNET + "label_emb.")):
        family = "sdxl"
    elif has("conditioner.embedders.0.model.") and not has("conditioner.embedders.1."):
        return "sdxl-refiner", "", notes
    elif has("cond_stage_model.model."):
        family = "sd2"  # OpenCLIP text encoder
    elif has("cond_stage_model.transformer.") or cross == 768:
        family = "sd1"
    elif cross == 1024:
        family = "sd2"
    elif cross == 2048:
        family = "sdxl"
    elif cross == 1280:
        return "sdxl-refiner", "", notes
    else:
        notes.append(f"unrecognised UNet (cross-attention width {cross})")
        return "unknown", "", notes
    if in_channels == 9:
        kind = f"{family}-inpaint" if family != "sdxl" else "sdxl-inpaint"
    elif in_channels != 4:
        notes.append(f"UNet takes {in_channels} input channels (instruct-pix2pix or "
                     "another special model), not supported")
        return "unknown", "", notes
    else:
        kind = "sdxl-base" if family == "sdxl" else family
    if not has("cond_stage_model.") and not has("conditioner."):
        notes.append("no text encoder inside the file")
    if not has("first_stage_model."):
        notes.append("no VAE inside the file")
    prediction = "epsilon" if family in ("sd1", "sdxl") else ""
    if "v_pred" in shapes or "v_prediction" in shapes:  # marker tensors some trainers add
        prediction = "v_prediction"
    return kind, prediction, notes


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
    try:
        size = path.stat().st_size
        short = quick_hash(path)
    except OSError as exc:
        return ModelInfo(path, "invalid", "", "single-file", 0, "", notes=(str(exc),))
    try:
        shapes = safe_load.read_keys_and_shapes(path)
    except UserFacingError as exc:
        return ModelInfo(path, "invalid", "", "single-file", size, short, notes=(str(exc),))
    kind, prediction, notes = classify_state_keys(shapes)
    override = path.with_suffix("")
    if (override / "model_index.json").is_file():
        folder = identify_diffusers_folder(override, require_weights=False)
        if folder.is_diffusion:
            notes.append(f"configured by the folder {override.name}/ beside it")
            kind, prediction = folder.kind, folder.prediction or prediction
    yaml_path = path.with_suffix(".yaml")
    if yaml_path.is_file() and kind.startswith("sd2"):
        prediction = _prediction_from_yaml(yaml_path) or "epsilon"
        notes.append(f"prediction type from {yaml_path.name}")
    return ModelInfo(path, kind, family_of(kind), "single-file", size, short, prediction,
                     tuple(notes))


# ---- diffusers folders ---------------------------------------------------------

def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def classify_diffusers_configs(index: dict, unet: dict, text: dict, scheduler: dict,
                               has_text_encoder_2: bool) -> tuple[str, str, list[str]]:
    notes: list[str] = []
    cls = str(index.get("_class_name", ""))
    if not unet:
        return "unknown", "", [f"{cls or 'pipeline'} without a UNet is not supported"]
    in_channels = unet.get("in_channels", 4)
    cross = unet.get("cross_attention_dim")
    prediction = scheduler.get("prediction_type", "") or ""
    if cls == "StableDiffusionUpscalePipeline" or in_channels == 7:  # SD's x4 upscaler
        return "upscaler", prediction, notes
    xl = has_text_encoder_2 or unet.get("addition_embed_type") == "text_time" or "XL" in cls
    if xl:
        if index.get("text_encoder", [None])[0] is None and has_text_encoder_2:
            return "sdxl-refiner", prediction, notes
        family = "sdxl"
    elif text.get("hidden_act") == "gelu" or cross == 1024:
        family = "sd2"  # OpenCLIP text encoder
    elif cross in (768, None) or text.get("hidden_act") == "quick_gelu":
        family = "sd1"
    else:
        return "unknown", prediction, [f"unrecognised pipeline {cls}"]
    if in_channels == 9:
        kind = f"{family}-inpaint"
    elif in_channels == 4:
        kind = "sdxl-base" if family == "sdxl" else family
    else:
        return "unknown", prediction, [f"UNet with {in_channels} input channels not supported"]
    return kind, prediction, notes


def identify_diffusers_folder(folder: Path, require_weights: bool = True) -> ModelInfo:
    """A diffusers folder; `require_weights=False` for config-only folders that
    sit beside a single-file checkpoint."""
    folder = Path(folder)
    index = _read_json(folder / "model_index.json")
    size = _folder_size(folder)
    if not index:
        return ModelInfo(folder, "invalid", "", "diffusers", size, "",
                         notes=("model_index.json is missing or unreadable",))
    unet = _read_json(folder / "unet" / "config.json")
    text = _read_json(folder / "text_encoder" / "config.json")
    sched = _read_json(folder / "scheduler" / "scheduler_config.json")
    kind, prediction, notes = classify_diffusers_configs(
        index, unet, text, sched, (folder / "text_encoder_2" / "config.json").is_file())
    if require_weights and kind != "unknown" and not any(
            (folder / "unet").glob("*.safetensors")) and not any((folder / "unet").glob("*.bin")):
        notes.append("the UNet has no weights file")
        kind = "invalid"
    return ModelInfo(folder, kind, family_of(kind), "diffusers", size, _folder_hash(folder),
                     prediction, tuple(notes))


def identify(path: str | os.PathLike) -> ModelInfo:
    """Identify one file or diffusers folder by reading it."""
    path = Path(path)
    if path.is_dir():
        return identify_diffusers_folder(path)
    return identify_file(path)


# ---- scanning -----------------------------------------------------------------

def hf_hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(Path.home(), ".cache", "huggingface")
    return Path(home) / "hub"


def default_roots(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """The app's models folder, folders the user added (an A1111 or ComfyUI
    install root works as well as its models folder) and the HF hub cache."""
    from artstudio import paths

    return [paths.user_models_dir(), *(Path(p) for p in extra), hf_hub_cache()]


def _candidate_dirs(root: Path) -> list[Path]:
    out = [root]
    out += [root / sub for sub in KNOWN_SUBFOLDERS if (root / sub).is_dir()]
    return out


def _hub_snapshots(root: Path) -> list[Path]:
    """models--org--name/snapshots/<rev>/: the newest revision of each repo."""
    found = []
    for repo in sorted(root.glob("models--*")):
        snaps = [p for p in (repo / "snapshots").glob("*") if p.is_dir()]
        if snaps:
            found.append(max(snaps, key=lambda p: p.stat().st_mtime))
    return found


def scan(roots: Iterable[str | os.PathLike], max_depth: int = 3) -> list[ModelInfo]:
    """Every model under `roots`, deduplicated by resolved path. Config folders
    beside a checkpoint (same stem) are not listed as models of their own."""
    seen: set[Path] = set()
    results: list[ModelInfo] = []

    def add(info: ModelInfo) -> None:
        key = info.path.resolve()
        if key not in seen:
            seen.add(key)
            results.append(info)

    def walk(folder: Path, depth: int) -> None:
        if (folder / "model_index.json").is_file():
            sibling = [folder.with_name(folder.name + s) for s in MODEL_SUFFIXES]
            if not any(p.is_file() for p in sibling):
                add(identify_diffusers_folder(folder))
            return
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.is_file() and entry.suffix.lower() in MODEL_SUFFIXES:
                if entry.stat().st_size < 1024 and entry.suffix.lower() == ".bin":
                    continue
                add(identify_file(entry))
            elif entry.is_dir() and depth < max_depth and not entry.name.startswith("."):
                walk(entry, depth + 1)

    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        if root.name == "hub" or any(root.glob("models--*")):
            for snap in _hub_snapshots(root):
                if (snap / "model_index.json").is_file():
                    add(identify_diffusers_folder(snap))
                else:  # a single-file repo: its checkpoints sit in the snapshot root
                    for f in sorted(snap.iterdir()):
                        if f.suffix.lower() in safe_load.SAFETENSORS_SUFFIXES:
                            add(identify_file(f))
            continue
        for folder in _candidate_dirs(root):
            walk(folder, 0)
    return results
