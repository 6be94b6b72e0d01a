"""The image encoders reference images are read with, as artists keep them:
single files in ComfyUI's `models/clip_vision`
(CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors, CLIP-ViT-bigG-14-..., and
SigLIP's sigclip_vision_patch14_384.safetensors for FLUX.1 Redux) and the
`image_encoder` folder of a diffusers IP-Adapter download.

A single file carries no config, so the config is made from its tensors
(hidden size, layers, patch, image size, projection width): loading needs no
download. The number of attention heads and the activation are not in the
tensors; they follow the known encoders (ViT-L: OpenAI's quick GELU, ViT-H and
bigG: OpenCLIP's GELU, all with 64-80-104 wide heads, 16 of them above ViT-B).
Safetensors only: a `.bin` encoder is refused, never unpickled.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artstudio.engine.errors import UserFacingError
from artstudio.model_files import safe_load

ENCODER_FOLDERS = ("clip_vision",)
PREFIX = "vision_model."
PROJECTION = "visual_projection.weight"
_LAYER = re.compile(r"^vision_model\.encoder\.layers\.(\d+)\.")
# (what the adapter reads, its width) -> the encoder artists download for it
KNOWN_ENCODERS = {
    ("projection", 1024): "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors (ViT-H)",
    ("hidden", 1280): "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors (ViT-H)",
    ("projection", 1280): "CLIP-ViT-bigG-14-laion2B-39B-b160k.safetensors (ViT-bigG)",
    ("hidden", 1664): "CLIP-ViT-bigG-14-laion2B-39B-b160k.safetensors (ViT-bigG)",
    ("projection", 768): "clip-vit-large-patch14 (ViT-L)",
    ("hidden", 1024): "clip-vit-large-patch14 (ViT-L)",
    ("siglip", 1152): "sigclip_vision_patch14_384.safetensors (SigLIP)",
}
_HEADS = {768: 12, 1024: 16, 1280: 16, 1664: 16}


@dataclass(frozen=True)
class EncoderNeed:
    """What an adapter reads from the encoder: its projected image embedding
    ("projection", base IP-Adapters) or its penultimate hidden states
    ("hidden", plus and face adapters) or a SigLIP encoder's last hidden states
    ("siglip", FLUX.1 Redux), and how wide that is."""

    reads: str
    width: int

    @property
    def hidden_states(self) -> bool:
        return self.reads == "hidden"

    def describe(self) -> str:
        known = KNOWN_ENCODERS.get((self.reads, self.width))
        what = ("an image embedding" if self.reads == "projection" else "hidden states")
        network = "SigLIP" if self.reads == "siglip" else "CLIP"
        return f"{known}, or another {network} image encoder giving {what} {self.width} wide" \
            if known else f"a {network} image encoder giving {what} {self.width} wide"


@dataclass(frozen=True)
class EncoderInfo:
    path: Path
    format: str  # "single-file" or "diffusers" (a folder with config.json)
    hidden: int = 0  # 0 when it is no CLIP image encoder
    projection: int = 0
    layers: int = 0
    patch: int = 0
    image_size: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    network: str = "clip"  # or "siglip"

    @property
    def name(self) -> str:
        return self.path.name if self.format == "diffusers" else self.path.stem

    @property
    def is_encoder(self) -> bool:
        return self.hidden > 0

    def fits(self, need: EncoderNeed) -> bool:
        if not self.is_encoder or (need.reads == "siglip") != (self.network == "siglip"):
            return False
        return need.width == (self.projection if need.reads == "projection" else self.hidden)


def unprefixed(shapes: Mapping[str, Any]) -> dict[str, Any]:
    """Vision-model keys without their `vision_model.` prefix (SigLIP files
    have it or not, depending on who saved them)."""
    return {k.removeprefix(PREFIX): v for k, v in shapes.items()}


def classify(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, int] | None:
    """The encoder's sizes from its tensors (HF transformers' CLIP or SigLIP
    vision layout), None when they are not an image encoder's. CLIP has a class
    token (one position more than the patches), SigLIP none."""
    keys = unprefixed(shapes)
    patch = keys.get("embeddings.patch_embedding.weight")
    positions = keys.get("embeddings.position_embedding.weight")
    fc1 = keys.get("encoder.layers.0.mlp.fc1.weight")
    if not (patch and positions and fc1 and len(patch) == 4):
        return None
    layers = 1 + max(int(m.group(1)) for k in keys if (m := _LAYER.match(PREFIX + k)))
    siglip = "embeddings.class_embedding" not in keys
    side = round((positions[0] - (0 if siglip else 1)) ** 0.5)
    projection = shapes.get(PROJECTION)
    return {"hidden": patch[0], "patch": patch[2], "image_size": side * patch[2],
            "layers": layers, "intermediate": fc1[0], "siglip": int(siglip),
            "projection": projection[0] if projection else 0}


def make_config(sizes: Mapping[str, int]):
    """A CLIPVisionConfig (or SiglipVisionConfig) for the sizes `classify` read."""
    from transformers import CLIPVisionConfig, SiglipVisionConfig

    hidden = sizes["hidden"]
    heads = _HEADS.get(hidden) or max(1, hidden // 64)
    if sizes["siglip"]:  # SigLIP so400m: 1152 wide, 16 heads of 72
        return SiglipVisionConfig(
            hidden_size=hidden, intermediate_size=sizes["intermediate"],
            num_hidden_layers=sizes["layers"], num_attention_heads=max(1, hidden // 72),
            image_size=sizes["image_size"], patch_size=sizes["patch"],
            hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
    return CLIPVisionConfig(
        hidden_size=hidden, intermediate_size=sizes["intermediate"],
        projection_dim=sizes["projection"] or hidden, num_hidden_layers=sizes["layers"],
        num_attention_heads=heads, image_size=sizes["image_size"], patch_size=sizes["patch"],
        hidden_act="quick_gelu" if hidden == 1024 else "gelu", layer_norm_eps=1e-5)


def _folder(folder: Path) -> EncoderInfo:
    import json

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return EncoderInfo(folder, "diffusers", notes=("its config.json cannot be read",))
    if not isinstance(config, dict) or "CLIPVision" not in str(config.get("architectures")):
        return EncoderInfo(folder, "diffusers", notes=("its config.json names no CLIP vision "
                                                       "model",))
    if not (folder / "model.safetensors").is_file():
        return EncoderInfo(folder, "diffusers", notes=(
            "it has no model.safetensors (a pytorch_model.bin is not loaded: it could run code; "
            "convert it to .safetensors)",))
    patch = int(config.get("patch_size") or 0)
    return EncoderInfo(folder, "diffusers", int(config.get("hidden_size") or 0),
                       int(config.get("projection_dim") or 0),
                       int(config.get("num_hidden_layers") or 0), patch,
                       int(config.get("image_size") or 0))


def identify_encoder(path: str | os.PathLike) -> EncoderInfo:
    """An image encoder file or folder, identified by reading it (never its
    name); anything else comes back with hidden 0 and the reason in `notes`."""
    path = Path(path)
    if path.is_dir():
        return _folder(path)
    if not path.is_file():
        return EncoderInfo(path, "single-file", notes=("there is no such file",))
    if path.suffix.lower() not in safe_load.SAFETENSORS_SUFFIXES:
        return EncoderInfo(path, "single-file", notes=(
            f"image encoders are read from .safetensors only ({path.suffix} files could run "
            "code when loaded)",))
    try:
        shapes = safe_load.tensor_shapes(safe_load.read_safetensors_header(path))
    except (UserFacingError, OSError) as exc:
        return EncoderInfo(path, "single-file", notes=(str(exc),))
    sizes = classify(shapes)
    if sizes is None:
        return EncoderInfo(path, "single-file",
                           notes=("its tensors are not a CLIP image encoder's",))
    return EncoderInfo(path, "single-file", sizes["hidden"], sizes["projection"],
                       sizes["layers"], sizes["patch"], sizes["image_size"],
                       network="siglip" if sizes["siglip"] else "clip")


def encoder_roots(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Where image encoders are looked for: the app's models/clip_vision, the
    clip_vision folders of other apps' installs, and the artist's folders."""
    from artstudio.model_files.other_apps import INSTALLS
    from artstudio.paths import user_models_dir

    home = Path.home()
    roots = [user_models_dir() / name for name in ENCODER_FOLDERS]
    for _app, install, _subfolders in INSTALLS:
        roots += [home / install / "models" / name for name in ENCODER_FOLDERS]
    for folder in (Path(e) for e in extra):
        roots += [folder / name for name in ENCODER_FOLDERS]
        roots += [folder / "models" / name for name in ENCODER_FOLDERS]
    return list(dict.fromkeys(r for r in roots if r.is_dir()))


def find_encoders(roots: Iterable[Path] | None = None) -> list[EncoderInfo]:
    """Every image encoder directly in `roots` (default encoder_roots())."""
    found: dict[Path, EncoderInfo] = {}
    for root in roots if roots is not None else encoder_roots():
        try:
            entries = sorted(Path(root).iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and not (entry / "config.json").is_file():
                continue
            if entry.is_file() and entry.suffix.lower() not in safe_load.SAFETENSORS_SUFFIXES:
                continue
            info = identify_encoder(entry)
            if info.is_encoder:
                found.setdefault(entry.resolve(), info)
    return sorted(found.values(), key=lambda i: i.name.lower())


def pick_encoder(need: EncoderNeed, adapter_name: str,
                 known: Iterable[EncoderInfo]) -> EncoderInfo:
    """The first encoder in `known` that gives what the adapter reads; else a
    message naming the file needed and where it goes."""
    for info in known:
        if info.fits(need):
            return info
    raise UserFacingError(
        f"{adapter_name} needs the image encoder {need.describe()}; none was found. Put it "
        "in models/clip_vision (the app's models folder or ComfyUI's).")


def load_encoder(info: EncoderInfo, device, dtype):
    """The CLIPVisionModelWithProjection of `info`, offline, on `device`."""
    from transformers import CLIPVisionModelWithProjection

    from artstudio.engine.network_building import NETWORK_BUILDING

    with NETWORK_BUILDING:
        if info.format == "diffusers":
            model = CLIPVisionModelWithProjection.from_pretrained(
                str(info.path), local_files_only=True, use_safetensors=True)
        else:
            state = safe_load.load_state_dict(info.path)
            state.pop(PREFIX + "embeddings.position_ids", None)
            sizes = classify({k: tuple(v.shape) for k, v in state.items()})
            if sizes is None:
                raise UserFacingError(f"{info.path.name} is not an image encoder.")
            if sizes["siglip"]:
                return _siglip(info, unprefixed(state), sizes).to(device=device,
                                                                  dtype=dtype).eval()
            if not sizes["projection"]:
                raise UserFacingError(f"{info.path.name} has no image projection "
                                      f"({PROJECTION}); IP-Adapters need one.")
            model = CLIPVisionModelWithProjection(make_config(sizes))
            missing, unexpected = model.load_state_dict(state, strict=False)
            if missing or unexpected:
                raise UserFacingError(f"{info.path.name} does not fit a CLIP image encoder: "
                                      f"{len(missing)} tensors missing, "
                                      f"{len(unexpected)} unexpected.")
    return model.to(device=device, dtype=dtype).eval()


def _siglip(info: EncoderInfo, state: dict, sizes: Mapping[str, int]):
    from transformers import SiglipVisionModel

    model = SiglipVisionModel(make_config(sizes))
    target = model.state_dict()
    if all(k.startswith(PREFIX) for k in target):  # transformers versions differ here
        state = {PREFIX + k: v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # The pooling head is not used (Redux reads the last hidden states); files often lack it.
    missing = [k for k in missing if ".head." not in f".{k}"]
    if missing or unexpected:
        raise UserFacingError(f"{info.path.name} does not fit a SigLIP image encoder: "
                              f"{len(missing)} tensors missing, {len(unexpected)} unexpected.")
    return model


def feature_extractor(info: EncoderInfo):
    """The encoder's own preprocessing at its image size (no download)."""
    from transformers import CLIPImageProcessor, SiglipImageProcessor

    side = info.image_size or 224
    if info.network == "siglip":
        return SiglipImageProcessor(size={"height": side, "width": side})
    return CLIPImageProcessor(size={"shortest_edge": side},
                              crop_size={"height": side, "width": side})
