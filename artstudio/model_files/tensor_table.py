"""The tensors a weights file holds, as its header lists them: name, shape,
stored type and bytes, with no weight read.

Safetensors headers give torch shapes and a type string ("BF16", "F8_E4M3");
GGUF headers (gguf_files) give quantisation types ("Q4_K") and bytes as stored.
Identification, pairing split parts and the memory estimate all work from this
table, so they treat both formats alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from artstudio.model_files import safe_load

GGUF_SUFFIXES = (".gguf",)

# Bytes per element of the unquantised types, by the names both headers use.
ELEMENT_BYTES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1,
    "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}
FLOAT_TYPES = frozenset({"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"})
FP8_TYPES = frozenset({"F8_E4M3", "F8_E5M2"})
# How torch names the stored types, for messages the artist reads.
TORCH_NAMES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16",
               "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "F64": "float64"}


@dataclass(frozen=True)
class TensorEntry:
    shape: tuple[int, ...]  # in torch order (GGUF's reversed order is turned round)
    dtype: str  # "BF16", "F8_E4M3", ... or a GGUF quantisation type ("Q4_K")
    nbytes: int  # as stored in the file

    @property
    def numel(self) -> int:
        n = 1
        for side in self.shape:
            n *= side
        return n

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOAT_TYPES

    @property
    def is_quantised(self) -> bool:
        """A GGUF block type, kept quantised in memory by diffusers' GGUF support."""
        return self.dtype not in ELEMENT_BYTES


TensorTable = dict[str, TensorEntry]


def is_gguf(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in GGUF_SUFFIXES


def safetensors_table(path: str | os.PathLike) -> TensorTable:
    header = safe_load.read_safetensors_header(path)
    table = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, stop = entry["data_offsets"]
        table[name] = TensorEntry(tuple(entry["shape"]), str(entry.get("dtype", "")),
                                  int(stop) - int(start))
    return table


def read_tensor_table(path: str | os.PathLike) -> TensorTable:
    """The table of a .safetensors or .gguf file; InvalidModelError when the
    header is unreadable. Pickle formats have no header to read safely and are
    not accepted here."""
    path = Path(path)
    if is_gguf(path):
        from artstudio.model_files import gguf_files

        return gguf_files.read_gguf_table(path)
    if path.suffix.lower() in safe_load.SAFETENSORS_SUFFIXES:
        return safetensors_table(path)
    raise safe_load.InvalidModelError(
        f"{path.name}: a split model part must be a .safetensors or .gguf file.")


def shapes_of(table: TensorTable) -> dict[str, tuple[int, ...]]:
    return {name: entry.shape for name, entry in table.items()}


def stored_types(table: TensorTable) -> dict[str, int]:
    """{stored type: bytes} over the file, largest first."""
    totals: dict[str, int] = {}
    for entry in table.values():
        totals[entry.dtype] = totals.get(entry.dtype, 0) + entry.nbytes
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def main_type(table: TensorTable) -> str:
    """The type most of the file's bytes are stored in ("" for an empty table)."""
    return next(iter(stored_types(table)), "")
