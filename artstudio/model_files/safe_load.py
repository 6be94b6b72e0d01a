"""Reading model files without trusting them.

Model files come from the internet and are hostile input. A pickle (`.ckpt`,
`.pt`, `.pth`, `.bin`) can run any code when it is unpickled, and scanners that
claim to spot bad pickles have been bypassed repeatedly. So:

* `.safetensors` is read with the safetensors library (no code can run), and its
  JSON header can be inspected without reading the weights at all;
* every other format goes through `torch.load(weights_only=True)` only, which
  refuses anything but tensors and plain containers (safe on torch >= 2.6);
* we never fall back to a full unpickle, whatever the file or a scanner says.
"""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path
from typing import Any

from artstudio.engine.errors import UserFacingError
from artstudio.engine.file_kinds import not_regular_reason
from artstudio.engine.printable import printable

SAFETENSORS_SUFFIXES = (".safetensors", ".sft")
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
# A header larger than this is not a real checkpoint (SDXL's is about 200 KB).
MAX_HEADER_BYTES = 100 * 1024 * 1024
MIN_TORCH = (2, 6)


class UnsafeModelError(UserFacingError):
    """The file would need code execution (a full unpickle) to load."""


class InvalidModelError(UserFacingError):
    """The file is truncated, corrupt or not a model at all."""


def read_safetensors_header(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON header of a .safetensors file: {name: {dtype, shape, data_offsets}}
    plus an optional "__metadata__" entry. Reads only the header bytes and checks
    that every tensor's data lies inside the file, so a truncated download is
    caught here rather than as a crash halfway through loading."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise InvalidModelError(f"{path.name} is too small to be a safetensors file.")
        (length,) = struct.unpack("<Q", head)
        if length <= 0 or length > MAX_HEADER_BYTES or 8 + length > size:
            raise InvalidModelError(
                f"{path.name} is not a valid safetensors file (bad header length); "
                "it may be truncated or a different format renamed."
            )
        raw = f.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidModelError(f"{path.name} has a corrupt safetensors header.") from exc
    if not isinstance(header, dict):
        raise InvalidModelError(f"{path.name} has a corrupt safetensors header.")
    data_size = size - 8 - length
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            start, stop = entry["data_offsets"]
            len(entry["shape"])  # a missing shape is corruption too
        except (TypeError, KeyError, ValueError) as exc:
            raise InvalidModelError(f"{path.name} has a corrupt tensor entry {name!r}.") from exc
        end = max(end, int(stop))
        if int(start) > int(stop):
            raise InvalidModelError(f"{path.name} has a corrupt tensor entry {name!r}.")
    if end > data_size:
        raise InvalidModelError(
            f"{path.name} is truncated: it needs {end + 8 + length:,} bytes but has {size:,}. "
            "Download it again."
        )
    return header


def tensor_shapes(header: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """{tensor name: shape} from a safetensors header, without the metadata entry."""
    return {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}


def _check_torch_version() -> None:
    import torch

    parts = torch.__version__.split("+")[0].split(".")
    version = (int(parts[0]), int(parts[1]))
    if version < MIN_TORCH:
        raise UnsafeModelError(
            f"Loading pickle-based model files needs torch {MIN_TORCH[0]}.{MIN_TORCH[1]} or newer "
            "(older weights_only loading can be bypassed). Convert the file to .safetensors."
        )


def load_state_dict(path: str | os.PathLike, device: str = "cpu") -> dict[str, Any]:
    """Load a checkpoint's tensors safely. Unwraps the {"state_dict": ...}
    nesting that training frameworks add. Raises UnsafeModelError when the file
    holds anything but plain tensors, InvalidModelError when it is unreadable."""
    path = Path(path)
    suffix = path.suffix.lower()
    reason = not_regular_reason(path)
    if reason is not None:
        raise InvalidModelError(f"Model file {printable(path)}: {reason}")
    if suffix in SAFETENSORS_SUFFIXES:
        read_safetensors_header(path)  # clear message for truncated files
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device=device)
        except Exception as exc:  # the library's own errors are not user-readable
            raise InvalidModelError(f"{path.name} could not be read: {exc}") from exc
    if suffix in PICKLE_SUFFIXES:
        state = load_pickle_weights_only(path, device=device)
    else:
        raise InvalidModelError(
            f"{path.name}: unsupported model format {suffix or '(no extension)'}; "
            "use .safetensors (or .ckpt/.pt/.pth/.bin holding plain weights)."
        )
    return unwrap_state_dict(state, path.name)


def looks_like_torch_file(path: Path) -> bool:
    """Whether the file starts the way torch.save files do: a zip archive
    (torch >= 1.6) or a pickle of protocol 2 or later (the legacy format)."""
    with open(path, "rb") as f:
        head = f.read(4)
    return head.startswith(b"PK\x03\x04") or (len(head) >= 2 and head[0] == 0x80
                                               and 2 <= head[1] <= 5)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SENTENCE = re.compile(r"(.+?[.!?])(?=\s|$)")
_MAX_DETAIL = 240


def torch_detail(text: str) -> str:
    """The part of torch's refusal that says what was found, as whole
    sentences ("Unsupported global: GLOBAL exec was not an allowed global by
    default."), without its advice to load the file unsafely; "" when there
    is nothing short enough to quote whole."""
    text = _ANSI.sub("", text)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    found = _SENTENCE.match(line)
    sentence = found.group(1) if found else line
    return sentence if len(sentence) <= _MAX_DETAIL else ""


def _with_detail(message: str, exc: BaseException) -> str:
    detail = torch_detail(str(exc)) or type(exc).__name__
    return f"{message} (torch: {detail})"


def load_pickle_weights_only(path: Path, device: str = "cpu") -> Any:
    """torch.load restricted to tensors and plain containers. Never retried
    without the restriction: a refusal is final and says why."""
    import pickle
    import zipfile

    import torch

    _check_torch_version()
    if not looks_like_torch_file(path):
        # Random bytes would make the unpickler "refuse" them as if they
        # held code; they hold nothing, and are never unpickled.
        raise InvalidModelError(
            f"{printable(path.name)} is not a readable PyTorch file: it is neither a zip "
            "archive nor a pickle (corrupt, or another format renamed).")
    kwargs: dict[str, Any] = {"map_location": device, "weights_only": True}
    if zipfile.is_zipfile(path):
        kwargs["mmap"] = True  # the zip format can be mapped instead of read whole
    try:
        return torch.load(str(path), **kwargs)
    except pickle.UnpicklingError as exc:
        raise UnsafeModelError(_with_detail(
            f"Refused to load {printable(path.name)}: it contains Python objects other than "
            "weights, and unpickling them could run arbitrary code. Use a .safetensors "
            "version of this model instead.", exc)) from exc
    # Damaged data makes the restricted unpickler fail in many ways
    # (IndexError, KeyError, ...): none of them ran anything.
    except Exception as exc:
        raise InvalidModelError(_with_detail(
            f"{printable(path.name)} is not a readable PyTorch file (corrupt or truncated).",
            exc)) from exc


def unwrap_state_dict(state: Any, name: str = "model") -> dict[str, Any]:
    """Training checkpoints nest weights under "state_dict" (Lightning) or
    "params_ema"/"params" (BasicSR upscalers); return the flat tensor dict."""
    import torch

    for _ in range(3):
        if not isinstance(state, dict):
            break
        for key in ("state_dict", "params_ema", "params", "model_state_dict"):
            if key in state and isinstance(state[key], dict):
                state = state[key]
                break
        else:
            break
    if not isinstance(state, dict) or not any(isinstance(v, torch.Tensor) for v in state.values()):
        raise InvalidModelError(f"{name} holds no model weights.")
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def read_keys_and_shapes(path: str | os.PathLike) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes for identification. Free for safetensors (header
    only); pickle formats need a weights_only load (memory-mapped when possible)."""
    path = Path(path)
    if path.suffix.lower() in SAFETENSORS_SUFFIXES:
        return tensor_shapes(read_safetensors_header(path))
    state = load_state_dict(path)
    return {k: tuple(v.shape) for k, v in state.items()}
