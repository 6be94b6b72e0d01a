"""Will this model fit? An estimate from the file headers, before loading.

The weights take what their tensors take at the chosen compute type (a bf16 or
fp8 file upcast to float16 takes 2 bytes an element; GGUF blocks stay as
stored, since diffusers keeps them quantised), plus a margin for the work
itself: latents, attention and the VAE decode grow with the picture. Against
it stands the memory free now: the GPU's (torch.cuda.mem_get_info) when the
model runs there, the RAM's on the CPU, and with CPU offload only the largest
part must fit on the GPU at once while the RAM holds the rest.

A model that does not fit is refused with what it needs, what is free and
what would help (offload, a GGUF or fp8 transformer), instead of letting the
machine swap itself to a halt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from artstudio.engine.errors import RequestRefused
from artstudio.model_files.tensor_table import TensorTable, read_tensor_table

GB = 1000**3  # the unit file sizes are shown in, as file managers and model pages do

COMPUTE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float8": 1}
# The working margin: a fixed part (CUDA context, scheduler state, text embeddings)
# and a part per output pixel per byte of the compute type (latents, attention
# activations and the VAE decode, which VAE tiling bounds). Rough by design and on
# the low side: it only has to tell "fits" from "will swap", never refuse a model
# that would have run (SD 1.5 in float32 on an 8 GB computer must pass).
MARGIN_FIXED = 512 * 1024**2
MARGIN_PER_PIXEL = 256
# Bits per weight of the GGUF files suggested as remedies (block scales included).
GGUF_BITS = {"Q8_0": 8.5, "Q4_K": 4.5}


class NotEnoughMemory(RequestRefused):
    """The model would not fit in the memory free now; the text says what would help."""


@dataclass(frozen=True)
class PartMemory:
    name: str  # the file's stem, as the artist knows it
    bytes: int  # at the chosen compute type
    elements: int  # floating-point elements, for the remedies' sizes
    quantised: bool  # already a GGUF file


@dataclass(frozen=True)
class MemoryEstimate:
    parts: tuple[PartMemory, ...]
    dtype: str
    margin: int

    @property
    def weights(self) -> int:
        return sum(p.bytes for p in self.parts)

    @property
    def total(self) -> int:
        return self.weights + self.margin

    @property
    def largest(self) -> PartMemory:
        return max(self.parts, key=lambda p: p.bytes)


def weights_bytes(table: TensorTable, dtype: str) -> int:
    """The bytes a file's tensors take once loaded to compute in `dtype`."""
    size = COMPUTE_BYTES[dtype]
    return sum(e.numel * size if e.is_float else e.nbytes for e in table.values())


def estimate(tables: Mapping[str, TensorTable], dtype: str,
             pixels: int = 1024 * 1024) -> MemoryEstimate:
    """The estimate for named parts' tables at `dtype`, for pictures of `pixels`."""
    parts = tuple(
        PartMemory(name, weights_bytes(table, dtype),
                   sum(e.numel for e in table.values() if e.is_float or e.is_quantised),
                   any(e.is_quantised for e in table.values()))
        for name, table in tables.items())
    margin = MARGIN_FIXED + pixels * MARGIN_PER_PIXEL * COMPUTE_BYTES[dtype]
    return MemoryEstimate(parts, dtype, margin)


def estimate_files(paths: Sequence[str | os.PathLike], dtype: str,
                   pixels: int = 1024 * 1024) -> MemoryEstimate:
    """The estimate from the files' headers (a few kilobytes read each)."""
    return estimate({Path(p).stem: read_tensor_table(p) for p in paths}, dtype, pixels)


def model_weight_files(path: str | os.PathLike) -> list[Path]:
    """The weight files a model loads from: an all-in-one file itself, or a
    diffusers folder's safetensors in each part's folder (its fp16 copies only
    where a part has nothing else, as the loader chooses)."""
    path = Path(path)
    if path.is_file():
        return [path]
    files: list[Path] = []
    for part in sorted(p for p in path.iterdir() if p.is_dir()):
        weights = sorted(part.glob("*.safetensors"))
        plain = [f for f in weights if ".fp16." not in f.name]
        files.extend(plain or weights)
    return files


def _gb(n: int) -> str:
    return f"{n / GB:.1f} GB"


def _smaller_files(part: PartMemory) -> str:
    """What a GGUF of the largest part would take: the concrete remedy."""
    if part.quantised:
        return f"a GGUF of {part.name} with fewer bits (Q4_K)"
    q8, q4 = (int(part.elements * GGUF_BITS[k] / 8) for k in ("Q8_0", "Q4_K"))
    return (f"a GGUF of {part.name} (Q8_0 about {_gb(q8)}, Q4_K about {_gb(q4)}) or an fp8 "
            f"one kept in fp8 (about {_gb(part.elements)})")


def memory_problem(found: MemoryEstimate, device: str, *, offload: bool = False,
                   free_device: int | None = None, free_ram: int | None = None,
                   free: Callable[[str], int] | None = None) -> str | None:
    """Why the model will not fit on `device` now, with what would help; None
    when it fits. Free memory is measured unless given (tests give it)."""
    if free is None:
        from artstudio.engine.devices import free_memory_bytes as free
    if free_ram is None:
        free_ram = free("cpu")
    on_cpu = device.startswith("cpu")
    if not on_cpu and free_device is None:
        free_device = free(device)
    largest = found.largest
    needs = (f"needs about {_gb(found.total)} at {found.dtype} ({_gb(found.weights)} of "
             f"weights, {largest.name} the largest at {_gb(largest.bytes)}, and about "
             f"{_gb(found.margin)} to work)")
    smaller = _smaller_files(largest)
    if on_cpu:
        if found.total <= free_ram:
            return None
        return (f"This model {needs}, but only {_gb(free_ram)} of memory is free. Use "
                f"{smaller}, or close other programs.")
    assert free_device is not None
    if offload:
        on_gpu = largest.bytes + found.margin
        if on_gpu <= free_device and found.weights <= free_ram:
            return None
        if found.weights > free_ram:
            return (f"This model {needs}; with CPU offload the computer's memory holds it, "
                    f"but only {_gb(free_ram)} is free. Use {smaller}.")
        return (f"This model {needs}; with CPU offload {device} must still hold "
                f"{largest.name} and the work ({_gb(on_gpu)}), but has {_gb(free_device)} "
                f"free. Use {smaller}.")
    if found.total <= free_device:
        return None
    remedies = [f"use {smaller}"]
    if largest.bytes + found.margin <= free_device and found.weights <= free_ram:
        remedies.insert(0, "turn on model CPU offload in Settings (the parts then take "
                           "turns on the GPU)")
    return (f"This model {needs}, but {device} has {_gb(free_device)} free. "
            + "; or ".join(r[0].upper() + r[1:] if i == 0 else r for i, r in enumerate(remedies))
            + ".")


def check_memory(found: MemoryEstimate, device: str, **kwargs) -> None:
    """NotEnoughMemory with memory_problem's message, before anything is loaded."""
    problem = memory_problem(found, device, **kwargs)
    if problem:
        raise NotEnoughMemory(problem)
