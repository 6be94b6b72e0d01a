"""LoRA files as artists keep them: found in A1111's, ComfyUI's and the app's
folders, recognised by their tensors (kohya / A1111, diffusers / PEFT and
LyCORIS layouts), matched to a model family, with their trigger words.

Reading a LoRA's identity never loads its weights: names, shapes and the
metadata come from the safetensors header.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.engine.errors import UserFacingError
from artstudio.model_files import safe_load

# Folder names under an app's models/ folder that hold LoRAs
LORA_FOLDERS = ("Lora", "LyCORIS", "loras", "lora")
_KOHYA_PREFIXES = ("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_", "lora_transformer_")
_LYCORIS_PARTS = (".hada_w1_a", ".hada_w1_b", ".lokr_w1", ".lokr_w2", ".lokr_w1_a")
_DIFFUSERS_PREFIXES = ("unet.", "text_encoder.", "text_encoder_2.", "transformer.")
# the width of the text a UNet's cross-attention reads, per SD family
_CROSS_WIDTHS = {768: "sd1", 1024: "sd2", 2048: "sdxl"}
_FLUX_MARKS = ("double_blocks", "single_blocks", "single_transformer_blocks")


@dataclass(frozen=True)
class LoraInfo:
    path: Path
    layout: str  # "kohya", "diffusers", "lycoris" or "" when it is not a LoRA
    family: str  # "sd1", "sd2", "sdxl", "flux", or "" when the tensors do not say
    parts: tuple[str, ...]  # "unet" / "transformer", "text_encoder", "text_encoder_2"
    rank: int
    triggers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def is_lora(self) -> bool:
        return bool(self.layout)

    def unusable_with(self, family: str) -> str | None:
        """Why this LoRA cannot be applied to a model of `family`; None when it can."""
        if not self.is_lora:
            return f"{self.path.name} is not a LoRA ({'; '.join(self.notes) or 'no LoRA tensors'})."
        if self.family and self.family != family:
            return f"{self.name} is a LoRA for {self.family.upper()} models, not {family.upper()}."
        return None


def _layout(keys: Iterable[str]) -> str:
    keys = list(keys)
    if any(k.endswith(_LYCORIS_PARTS) or any(p + "." in k for p in _LYCORIS_PARTS)
           for k in keys):
        return "lycoris"
    if any(k.startswith(_KOHYA_PREFIXES) for k in keys):
        return "kohya"
    if any(k.startswith(_DIFFUSERS_PREFIXES) and ("lora" in k) for k in keys):
        return "diffusers"
    return ""


def _family(shapes: Mapping[str, tuple[int, ...]]) -> str:
    if any(mark in k for k in shapes for mark in _FLUX_MARKS) or any(
            k.startswith("transformer.") for k in shapes):
        return "flux"
    if any(k.startswith(("lora_te1_", "lora_te2_", "text_encoder_2.")) for k in shapes):
        return "sdxl"
    for key, shape in shapes.items():
        down = key.endswith(("attn2_to_k.lora_down.weight", "attn2.to_k.lora_A.weight",
                             "attn2.to_k.lora.down.weight"))
        if down and len(shape) == 2:
            return _CROSS_WIDTHS.get(shape[1], "")
    return ""


def _rank(shapes: Mapping[str, tuple[int, ...]]) -> int:
    ranks = [s[0] for k, s in shapes.items()
             if k.endswith(("lora_down.weight", "lora_A.weight", "lora.down.weight")) and s]
    return max(ranks, default=0)


def _parts(keys: Iterable[str]) -> tuple[str, ...]:
    found = []
    for key in keys:
        if key.startswith(("lora_unet_", "unet.")):
            found.append("unet")
        elif key.startswith(("lora_transformer_", "transformer.")):
            found.append("transformer")
        elif key.startswith(("lora_te2_", "text_encoder_2.")):
            found.append("text_encoder_2")
        elif key.startswith(("lora_te_", "lora_te1_", "text_encoder.")):
            found.append("text_encoder")
    return tuple(p for p in ("unet", "transformer", "text_encoder", "text_encoder_2")
                 if p in found)


def trigger_words(path: Path, metadata: Mapping[str, str]) -> tuple[str, ...]:
    """The words that call up what the LoRA learned: the modelspec trigger
    phrase, a civitai sidecar's trained words, an A1111 sidecar's activation
    text, else the most frequent training tags (kohya's ss_tag_frequency)."""
    words: list[str] = []
    if metadata.get("modelspec.trigger_phrase"):
        words += [w.strip() for w in metadata["modelspec.trigger_phrase"].split(",")]
    for sidecar, read in ((path.with_suffix(".civitai.info"), lambda d: d.get("trainedWords")),
                          (path.with_suffix(".json"), lambda d: [d.get("activation text")])):
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            for entry in read(data) or []:
                if isinstance(entry, str):
                    words += [w.strip() for w in entry.split(",")]
    if not words and metadata.get("ss_tag_frequency"):
        try:
            folders = json.loads(metadata["ss_tag_frequency"])
            counts: dict[str, int] = {}
            for tags in folders.values():
                for tag, n in tags.items():
                    counts[tag.strip()] = counts.get(tag.strip(), 0) + int(n)
            words = sorted(counts, key=lambda t: (-counts[t], t))[:5]
        except (ValueError, AttributeError, TypeError):
            pass
    return tuple(dict.fromkeys(w for w in words if w))


def identify_lora(path: str | os.PathLike) -> LoraInfo:
    path = Path(path)
    if path.suffix.lower() != ".safetensors":
        return LoraInfo(path, "", "", (), 0, notes=("LoRAs are read from .safetensors files",))
    try:
        header = safe_load.read_safetensors_header(path)
    except (UserFacingError, OSError) as exc:
        return LoraInfo(path, "", "", (), 0, notes=(str(exc),))
    shapes = safe_load.tensor_shapes(header)
    layout = _layout(shapes)
    if not layout:
        return LoraInfo(path, "", "", (), 0, notes=("it holds no LoRA tensors (a checkpoint "
                                                     "or another kind of file?)",))
    metadata = header.get("__metadata__") or {}
    notes = []
    family = _family(shapes)
    if not family:
        notes.append("the tensors do not say which model family it is for")
    return LoraInfo(path, layout, family, _parts(shapes), _rank(shapes),
                    trigger_words(path, metadata), tuple(notes))


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def lora_hash(path: Path) -> str:
    """A1111's short LoRA hash: sha256 of the tensor data after the header
    (the "addnet" hash), first 12 hex digits, so PNGs made there match here.
    Remembered per file while it is unchanged: every generation names its
    LoRAs' adapters by it, and hashing a 150 MB file each time would cost more
    than switching the weights."""
    return _tensor_data_hash(_file_key(Path(path)))


@functools.lru_cache(maxsize=512)
def _tensor_data_hash(key: tuple[str, int, int]) -> str:
    h = hashlib.sha256()
    path = Path(key[0])
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        f.seek(8 + length)
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def lora_roots(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Where LoRAs are looked for: the app's models folder's LoRA folders, the
    LoRA folders of other apps' installs, and folders the artist added."""
    from artstudio.model_files.other_apps import INSTALLS
    from artstudio.paths import user_models_dir

    roots = [user_models_dir() / name for name in LORA_FOLDERS]
    home = Path.home()
    for _app, install, _subfolders in INSTALLS:
        roots += [home / install / "models" / name for name in LORA_FOLDERS]
    roots += [Path(e) for e in extra]
    return list(dict.fromkeys(r for r in roots if r.is_dir()))


def find_loras(roots: Iterable[Path] | None = None, max_depth: int = 3) -> list[LoraInfo]:
    """Every LoRA under `roots` (default lora_roots()), by name; files that are
    not LoRAs are left out."""
    found: dict[Path, LoraInfo] = {}
    for root in roots if roots is not None else lora_roots():
        root = Path(root)
        for path in sorted(root.rglob("*.safetensors")):
            if len(path.relative_to(root).parts) > max_depth or not path.is_file():
                continue
            info = identify_lora(path)
            if info.is_lora:
                found.setdefault(path.resolve(), info)
    return sorted(found.values(), key=lambda i: i.name.lower())


def find_loras_job(extra: Iterable[str] = (), progress=None, cancel=None) -> list[LoraInfo]:
    """find_loras in the LoRA folders and `extra`, in the engine's job shape."""
    return find_loras(lora_roots(extra))


LORA_TAG = re.compile(r"<lora:([^:>]+)(?::([^:>]*))?(?::[^>]*)?>", re.IGNORECASE)


@dataclass(frozen=True)
class LoraRequest:
    name: str  # a file name without extension, or a path
    weight: float = 1.0


def split_lora_tags(prompt: str) -> tuple[str, list[LoraRequest]]:
    """A1111's `<lora:name:weight>` tags taken out of a prompt: the prompt
    without them, and the requests in order (a later tag for the same LoRA wins)."""
    requests: dict[str, LoraRequest] = {}
    for match in LORA_TAG.finditer(prompt):
        name, weight = match.group(1).strip(), (match.group(2) or "1").strip()
        try:
            value = float(weight)
        except ValueError:
            raise UserFacingError(f"<lora:{name}:{weight}> has a weight that is not a "
                                  "number.") from None
        requests[name] = LoraRequest(name, value)
    text = " ".join(LORA_TAG.sub(" ", prompt).split())
    return text.replace(" ,", ","), list(requests.values())


def resolve_request(request: LoraRequest, known: Iterable[LoraInfo]) -> LoraInfo:
    """The LoRA a request names: an existing path, else a file name found in the
    LoRA folders; a clear message naming it when neither."""
    path = Path(request.name)
    if path.suffix.lower() == ".safetensors" and path.is_file():
        return identify_lora(path)
    for info in known:
        if info.name == request.name or info.path.name == request.name:
            return info
    raise UserFacingError(f"The LoRA “{request.name}” was not found in the LoRA folders "
                          "(models/Lora, models/LyCORIS, models/loras).")


MAX_WEIGHT = 10.0  # A1111 takes any number; past this a LoRA only breaks the picture


def check_fields(requested: Iterable[tuple[str, float]], embedding_dirs: Iterable[str]) -> None:
    """GenerationParams' LoRA and embedding fields, checked before any model loads."""
    for name, weight in requested:
        if not str(name).strip():
            raise UserFacingError("A LoRA was chosen without a name or file.")
        if not isinstance(weight, int | float) or not -MAX_WEIGHT <= weight <= MAX_WEIGHT:
            raise UserFacingError(f"The LoRA {name}'s weight must be a number between "
                                  f"{-MAX_WEIGHT:g} and {MAX_WEIGHT:g}, not {weight}.")
    for folder in embedding_dirs:
        if not Path(folder).is_dir():
            raise UserFacingError(f"The embeddings folder {folder} does not exist.")
