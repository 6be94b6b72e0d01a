"""Weights stored in one type, computed in another: bf16, fp16 and fp8 files
(ComfyUI's `*_fp8_e4m3fn` files) upcast on load to the device's compute type.

safetensors reads float8 tensors into torch, and the cast to float16/bfloat16/
float32 happens on the CPU tensor by tensor, so a device that has no float8
type at all (Apple's Metal backend) never sees one and peak memory stays one
tensor above the result. ComfyUI's "scaled" fp8 files (a `scaled_fp8` marker
and a `scale_weight` beside each weight) store weight / scale: the scale is
multiplied back in, or the model would compute with wrongly sized weights.

Keeping weights in fp8 while computing (diffusers' layerwise casting) or fp8
matrix products are a choice on top; `fp8_problem` says when a device cannot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from artstudio.engine.errors import RequestRefused
from artstudio.model_files import safe_load

SCALED_FP8_MARKER = "scaled_fp8"
SCALE_SUFFIX = ".scale_weight"
# fp8 matrix products (torch._scaled_mm) need Ada Lovelace or Hopper: compute capability 8.9+.
FP8_COMPUTE_CAPABILITY = (8, 9)

FP8_STORE = "store"  # keep the weights in fp8, upcast layer by layer while computing
FP8_COMPUTE = "compute"  # fp8 matrix products


def load_state_dict_as(path: str | os.PathLike, dtype: Any, device: str = "cpu") -> dict:
    """A file's tensors with every floating-point one (fp8 included) cast to
    `dtype` (a torch dtype) and scaled fp8 weights rescaled. Safetensors are read
    tensor by tensor; pickle formats only through safe_load's weights-only path."""
    import torch

    path = Path(path)
    if path.suffix.lower() not in safe_load.SAFETENSORS_SUFFIXES:
        state = safe_load.load_state_dict(path)
        return _rescaled({k: _cast(v, dtype) for k, v in state.items()}, state, dtype)
    safe_load.read_safetensors_header(path)  # a clear message for truncated files
    from safetensors import safe_open

    raw: dict[str, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            for name in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
                tensor = f.get_tensor(name)
                if name.endswith(SCALE_SUFFIX) or name == SCALED_FP8_MARKER:
                    raw[name] = tensor
                else:
                    out[name] = _cast(tensor, dtype)
    except Exception as exc:  # the library's own errors are not user-readable
        raise safe_load.InvalidModelError(f"{path.name} could not be read: {exc}") from exc
    out = _rescaled(out, raw, dtype)
    return {k: v.to(device) for k, v in out.items()} if device != "cpu" else out


def _cast(tensor, dtype):
    return tensor.to(dtype) if tensor.is_floating_point() else tensor


def _rescaled(out: dict, raw: dict, dtype) -> dict:
    """Multiply each scaled fp8 weight by its scale and drop the scales and the marker."""
    if SCALED_FP8_MARKER not in raw:
        return {k: v for k, v in out.items()
                if not k.endswith(SCALE_SUFFIX) and k != SCALED_FP8_MARKER}
    for name, scale in raw.items():
        if not name.endswith(SCALE_SUFFIX):
            continue
        weight = name[: -len(SCALE_SUFFIX)] + ".weight"
        if weight in out:
            out[weight] = (out[weight].float() * scale.float()).to(dtype)
    return {k: v for k, v in out.items()
            if not k.endswith(SCALE_SUFFIX) and k != SCALED_FP8_MARKER}


def _cuda_capability(device: str) -> tuple[int, int] | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return tuple(torch.cuda.get_device_capability(torch.device(device)))


def fp8_problem(device: str, use: str = FP8_STORE) -> str | None:
    """Why `device` cannot keep weights in fp8 (FP8_STORE) or compute in fp8
    (FP8_COMPUTE), or None when it can. Loading an fp8 file never needs either:
    it is upcast on load."""
    upcast = "Choose float16 or bfloat16 in Settings: the fp8 file is then upcast on load."
    if device == "mps":
        return f"Apple's Metal backend has no float8 type, so weights cannot stay in fp8. {upcast}"
    if use == FP8_STORE:
        return None
    if not device.startswith("cuda"):
        return ("fp8 computation needs an NVIDIA GPU of compute capability 8.9 or newer "
                f"(RTX 40 series, L4, H100); this runs on the {device.upper()}. {upcast}")
    capability = _cuda_capability(device)
    if capability is None:
        return f"CUDA is not available, so fp8 computation cannot run. {upcast}"
    if capability < FP8_COMPUTE_CAPABILITY:
        major, minor = capability
        return ("fp8 computation needs an NVIDIA GPU of compute capability 8.9 or newer "
                f"(RTX 40 series, L4, H100); this GPU has {major}.{minor}. {upcast}")
    return None


def require_fp8(device: str, use: str = FP8_STORE) -> None:
    """RequestRefused with fp8_problem's message, before anything is loaded."""
    problem = fp8_problem(device, use)
    if problem:
        raise RequestRefused(problem)
