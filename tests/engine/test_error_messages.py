"""Out-of-memory errors read the same on every device, the CPU's included."""

from __future__ import annotations

import pytest
import torch

from artstudio.engine.errors import describe_error, is_out_of_memory


def test_the_cpu_allocators_refusal_is_out_of_memory():
    try:
        torch.empty(2**62, dtype=torch.uint8)  # far past any machine's memory
    except RuntimeError as exc:
        error = exc
    else:  # pragma: no cover - no allocator grants 4 EiB
        pytest.fail("the allocation succeeded")
    assert is_out_of_memory(error)
    assert describe_error(error).startswith("Out of memory. Try a smaller image size")


@pytest.mark.parametrize("error", [
    MemoryError(),
    RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"),
    RuntimeError("[enforce fail at alloc_cpu.cpp:118] data. DefaultCPUAllocator: "
                 "can't allocate memory: you tried to allocate 80000000000 bytes."),
])
def test_each_device_says_out_of_memory_alike(error):
    assert is_out_of_memory(error)


def test_other_errors_are_not_out_of_memory():
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
