"""Depth from a depth-estimation model folder in transformers' layout
(Depth Anything V1/V2, DPT / MiDaS, ZoeDepth...: what
AutoModelForDepthEstimation reads, e.g. depth-anything/Depth-Anything-V2-Small-hf
or Intel/dpt-hybrid-midas), loaded offline. The control image is what depth
ControlNets were trained on: near is white, far is black, spread over 0..255
as controlnet-aux's MiDaS and Depth Anything preprocessors give it.

transformers (Apache-2.0) holds the architectures; nothing is copied here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from artstudio.control.annotators import loading

EXAMPLE_FOLDER = "depth-anything-v2-small-hf"
# Model types whose output grows with distance (metres), not with nearness.
_METRIC_TYPES = {"zoedepth", "depth_pro", "chmv2"}
_PREFERRED = ("depth_anything", "dpt")  # what depth ControlNets were trained with


def _model_type(folder: Path) -> str:
    """The depth model type a folder's config.json names, "" when it is none."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    kind = config.get("model_type", "") if isinstance(config, dict) else ""
    return kind if kind in MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES else ""


def find(folders: Sequence[Path]) -> Path | None:
    """A depth-estimation folder in `folders` or up to two levels below them
    (ComfyUI's ckpts/<author>/<model>), Depth Anything and DPT first; else an
    original Depth Anything file (depth_anything_files)."""
    found: list[tuple[int, str, Path]] = []
    for root in folders:
        if not root.is_dir():
            continue
        for config in sorted([*root.glob("config.json"), *root.glob("*/config.json"),
                              *root.glob("*/*/config.json")]):
            kind = _model_type(config.parent)
            if kind:
                rank = _PREFERRED.index(kind) if kind in _PREFERRED else len(_PREFERRED)
                found.append((rank, str(config.parent), config.parent))
        if found:
            return min(found)[2]
    from artstudio.control.annotators import depth_anything_files

    return depth_anything_files.find(folders)


def _load(folder: Path, device: str):
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    from artstudio.engine.errors import UserFacingError
    from artstudio.engine.network_building import NETWORK_BUILDING

    # safetensors when the folder has them; a .bin goes through transformers'
    # own torch.load(weights_only=True).
    safetensors = any(folder.glob("*.safetensors"))
    try:
        with NETWORK_BUILDING:
            model = AutoModelForDepthEstimation.from_pretrained(
                str(folder), local_files_only=True, use_safetensors=safetensors or None)
        processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UserFacingError(f"The depth model {folder.name} could not be loaded: "
                              f"{str(exc).splitlines()[0]}") from exc
    return model.float().eval().to(device), processor


def run(folder: Path, rgb: np.ndarray, device: str) -> np.ndarray:
    """Near white, far black, the size of `rgb`; `folder` is a model folder
    or an original Depth Anything file."""
    import torch

    from artstudio.control.annotators import depth_anything_files
    from artstudio.engine.model_cache import estimate_size

    load = depth_anything_files.load if folder.is_file() else _load
    model, processor = loading.kept((load, str(folder.resolve()), device),
                                    lambda: load(folder, device),
                                    lambda pair: estimate_size(pair[0]))
    height, width = rgb.shape[:2]
    inputs = processor(images=rgb, return_tensors="pt").to(device)
    with torch.inference_mode():
        depth = model(pixel_values=inputs["pixel_values"].float()).predicted_depth
        depth = torch.nn.functional.interpolate(depth.reshape(1, 1, *depth.shape[-2:]).float(),
                                                size=(height, width), mode="bicubic",
                                                align_corners=False)[0, 0]
    if _model_type(folder) in _METRIC_TYPES or getattr(
            model.config, "depth_estimation_type", "relative") == "metric":
        depth = -depth
    low, high = float(depth.min()), float(depth.max())
    spread = (depth - low) / (high - low) if high - low > 1e-8 else torch.zeros_like(depth)
    return loading.as_rgb(spread.cpu().numpy() * 255.0, height, width)
