"""The memory estimate from file headers against the memory free now, with
fake header sizes as large as real FLUX files, and the refusal's remedies."""

from __future__ import annotations

import pytest
import split_parts as sp
import torch

from artstudio.engine import devices
from artstudio.model_files import memory
from artstudio.model_files.tensor_table import TensorEntry

GB = 1000**3


def _table(elements: int, dtype: str, nbytes: int | None = None) -> dict:
    size = {"BF16": 2, "F16": 2, "F32": 4, "F8_E4M3": 1}.get(dtype, 0)
    return {"w": TensorEntry((elements,), dtype, nbytes if nbytes is not None else elements * size)}


def _flux(transformer=None):
    """FLUX.1 dev's real element counts: 11.9 G transformer, 4.76 G T5, CLIP-L, ae."""
    return {"flux1-dev": transformer or _table(11_900_000_000, "BF16"),
            "t5xxl_fp16": _table(4_760_000_000, "F16"),
            "clip_l": _table(123_000_000, "F16"), "ae": _table(84_000_000, "F32")}


def test_weights_at_the_compute_type():
    assert memory.weights_bytes(_table(1000, "BF16"), "float32") == 4000
    assert memory.weights_bytes(_table(1000, "F8_E4M3"), "float16") == 2000  # upcast
    assert memory.weights_bytes(_table(1000, "F32"), "float8") == 1000
    assert memory.weights_bytes(_table(1024, "Q4_K", nbytes=576), "float16") == 576  # as stored
    ints = {"ids": TensorEntry((10,), "I64", 80)}
    assert memory.weights_bytes(ints, "float16") == 80


def test_margin_grows_with_the_picture():
    small = memory.estimate(_flux(), "float16", pixels=512 * 512)
    large = memory.estimate(_flux(), "float16", pixels=2048 * 2048)
    assert large.margin > small.margin and large.weights == small.weights
    assert small.largest.name == "flux1-dev" and small.weights == pytest.approx(33.67 * GB,
                                                                                rel=0.01)


def test_on_the_cpu_ram_decides():
    found = memory.estimate(_flux(), "float32")
    problem = memory.memory_problem(found, "cpu", free_ram=32 * GB)
    assert problem.startswith("This model needs about 69.1 GB at float32 (67.5 GB of weights")
    assert "only 32.0 GB of memory is free" in problem
    assert "a GGUF of flux1-dev (Q8_0 about 12.6 GB, Q4_K about 6.7 GB)" in problem
    assert "\n" not in problem
    assert memory.memory_problem(found, "cpu", free_ram=128 * GB) is None


def test_on_a_gpu_offload_is_offered_when_the_largest_part_fits():
    found = memory.estimate(_flux(), "float16")
    assert memory.memory_problem(found, "cuda", free_device=40 * GB, free_ram=64 * GB) is None
    problem = memory.memory_problem(found, "cuda", free_device=32 * GB, free_ram=64 * GB)
    assert "but cuda has 32.0 GB free" in problem
    assert "Turn on model CPU offload in Settings" in problem and "Q4_K" in problem
    assert memory.memory_problem(found, "cuda", offload=True, free_device=32 * GB,
                                 free_ram=64 * GB) is None
    # A 24 GB card cannot hold the 23.8 GB transformer and the work: offload is no remedy.
    small = memory.memory_problem(found, "cuda", free_device=24 * GB, free_ram=64 * GB)
    assert "offload" not in small and "GGUF of flux1-dev" in small


def test_a_gguf_transformer_on_a_10_gb_card_with_offload():
    q4 = _table(11_900_000_000, "Q4_K", nbytes=int(11_900_000_000 * 4.5 / 8))
    found = memory.estimate(_flux(q4), "float16")
    assert found.largest.name == "t5xxl_fp16"
    problem = memory.memory_problem(found, "cuda", offload=True, free_device=10 * GB,
                                    free_ram=64 * GB)
    assert "with CPU offload cuda must still hold t5xxl_fp16" in problem
    assert "fp8" in problem  # an fp8 T5 would do
    assert memory.memory_problem(found, "cuda", offload=True, free_device=16 * GB,
                                 free_ram=64 * GB) is None
    short_ram = memory.memory_problem(found, "cuda", offload=True, free_device=16 * GB,
                                      free_ram=8 * GB)
    assert "the computer's memory holds it, but only 8.0 GB is free" in short_ram
    with pytest.raises(memory.NotEnoughMemory):
        memory.check_memory(found, "cuda", offload=True, free_device=16 * GB, free_ram=8 * GB)
    memory.check_memory(found, "cuda", offload=True, free_device=16 * GB, free_ram=64 * GB)


def test_estimate_from_the_files_headers(tmp_path):
    st = sp.write(tmp_path / "t5xxl_fp8_e4m3fn.safetensors", {"a": (64, 32), "b": (32,)},
                  dtype=torch.float8_e4m3fn)
    gg = sp.write_gguf(tmp_path / "flux1-dev-Q8_0.gguf", {"w": (4, 256), "bias": (4,)})
    found = memory.estimate_files([st, gg], "float16", pixels=0)
    by_name = {p.name: p for p in found.parts}
    assert by_name["t5xxl_fp8_e4m3fn"].bytes == (64 * 32 + 32) * 2
    # Q8_0: blocks of 32 values in 34 bytes; the F32 bias becomes float16.
    assert by_name["flux1-dev-Q8_0"].bytes == 4 * 256 // 32 * 34 + 4 * 2
    assert by_name["flux1-dev-Q8_0"].quantised and found.margin == memory.MARGIN_FIXED


def test_free_ram_counts_the_page_cache(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32000000 kB\nMemFree:          500000 kB\n"
                       "MemAvailable:   20000000 kB\n")
    assert devices.meminfo_available(str(meminfo)) == 20_000_000 * 1024
    assert devices.meminfo_available(str(tmp_path / "absent")) is None
