"""GGUF files: quantised diffusion models (city96's FLUX, SD3.5 and Z-Image
conversions, as ComfyUI-GGUF reads them) that let 8-12 GB GPUs run FLUX.

The header is read with the `gguf` package's reader, which maps the file and
parses names, shapes and types: no code in the file can run. Tensor names are
the original layouts' (`double_blocks.0.img_attn.qkv.weight`), so the same
recognisers as for safetensors tell the family. diffusers loads such a file
through `from_single_file(..., quantization_config=GGUFQuantizationConfig(...))`
and keeps the weights quantised, dequantising a layer as it runs; it can only
read the block types it has kernels for, so the others are refused here with
the type named, before anything is loaded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from artstudio.engine.errors import UserFacingError
from artstudio.engine.file_kinds import not_regular_reason
from artstudio.engine.printable import printable
from artstudio.model_files.safe_load import InvalidModelError
from artstudio.model_files.tensor_table import TensorEntry, TensorTable

# What diffusers 0.42's GGUF loader reads: F32 and F16 as plain tensors, the rest
# through its dequantisers (quantizers/gguf/utils.py SUPPORTED_GGUF_QUANT_TYPES).
# tests/model_files/test_gguf_files.py holds this list to diffusers' own.
DIFFUSERS_GGUF_TYPES = (
    "F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
    "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS",
)


class UnsupportedGGUFType(UserFacingError):
    """A GGUF file quantised with a block type diffusers cannot dequantise."""


def read_gguf_table(path: str | os.PathLike) -> TensorTable:
    """{name: TensorEntry} from a GGUF header, shapes in torch order."""
    path = Path(path)
    reason = not_regular_reason(path)
    if reason is not None:
        raise InvalidModelError(f"Model file {printable(path)}: {reason}")
    try:
        from gguf import GGUFReader
    except ImportError as exc:  # a broken install: the package is a dependency
        raise UserFacingError("Reading GGUF files needs the 'gguf' package, which is "
                              "missing from this installation.") from exc
    try:
        reader = GGUFReader(str(path), "r")
        table = {
            str(t.name): TensorEntry(tuple(int(s) for s in reversed(t.shape.tolist())),
                                     t.tensor_type.name, int(t.n_bytes))
            for t in reader.tensors}
    except Exception as exc:  # the reader raises many kinds on damaged headers
        raise InvalidModelError(
            f"{printable(path.name)} is not a readable GGUF file ({_short(exc)}); it may be "
            "truncated or another format renamed.") from exc
    finally:
        reader = None  # drop the memory map now, not at the next collection
    if not table:
        raise InvalidModelError(f"{printable(path.name)} holds no tensors.")
    return table


def unsupported_types(table: TensorTable) -> list[str]:
    """The block types in `table` that diffusers cannot read, most bytes first."""
    totals: dict[str, int] = {}
    for entry in table.values():
        if entry.dtype not in DIFFUSERS_GGUF_TYPES:
            totals[entry.dtype] = totals.get(entry.dtype, 0) + entry.nbytes
    return sorted(totals, key=lambda kind: -totals[kind])


def check_loadable(path: Path, table: TensorTable) -> None:
    """Raise UnsupportedGGUFType, naming the type, when diffusers cannot read the file."""
    bad = unsupported_types(table)
    if bad:
        raise UnsupportedGGUFType(
            f"{printable(Path(path).name)} is quantised as {', '.join(bad)}, which diffusers' "
            "GGUF support cannot read. Use a file quantised as Q8_0, Q6_K, Q5_K, Q4_K or "
            "Q4_0 (or another of " + ", ".join(DIFFUSERS_GGUF_TYPES) + ").")


def load_transformer(model_class: Any, path: str | os.PathLike, config: str | os.PathLike,
                     subfolder: str, dtype: Any) -> Any:
    """A diffusers transformer (`FluxTransformer2DModel`, ...) from a GGUF file, its
    weights kept quantised and computed in `dtype`; `config` is the folder of the
    shipped (or beside-the-file) configs. Refuses unreadable types first."""
    from diffusers import GGUFQuantizationConfig

    path = Path(path)
    check_loadable(path, read_gguf_table(path))
    return model_class.from_single_file(
        str(path), quantization_config=GGUFQuantizationConfig(compute_dtype=dtype),
        config=str(config), subfolder=subfolder, torch_dtype=dtype)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
