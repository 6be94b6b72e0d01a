from __future__ import annotations

import pytest

from artstudio.engine import devices


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(devices, "_cuda_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)


@pytest.fixture
def cuda(monkeypatch):
    monkeypatch.setattr(devices, "_cuda_available", lambda: True)
    monkeypatch.setattr(devices, "_mps_available", lambda: False)


def test_cpu_uses_float32(no_gpu):
    choice = devices.choose_device()
    assert (choice.device, choice.dtype) == ("cpu", "float32")
    assert not choice.is_accelerator


def test_cuda_preferred_with_half_precision(cuda):
    choice = devices.choose_device("auto")
    assert (choice.device, choice.dtype) == ("cuda", "float16")


def test_mps_when_no_cuda(monkeypatch):
    monkeypatch.setattr(devices, "_cuda_available", lambda: False)
    monkeypatch.setattr(devices, "_mps_available", lambda: True)
    assert devices.choose_device().device == "mps"


def test_settings_override_and_unavailable_fallback(cuda):
    assert devices.choose_device("cpu").device == "cpu"
    assert devices.choose_device("auto", "float32").dtype == "float32"
    fallback = devices.choose_device("mps")
    assert fallback.device == "cpu" and "not available" in fallback.reason


def test_float16_on_cpu_is_refused(no_gpu):
    choice = devices.choose_device("cpu", "float16")
    assert choice.dtype == "float32"


def test_real_machine_choice_runs_a_tensor():
    choice = devices.choose_device()
    import torch

    x = torch.ones(4, device=choice.torch_device, dtype=choice.torch_dtype)
    assert float(x.sum()) == 4.0
    assert devices.free_memory_bytes(choice.device) > 0


def test_probe_job_describes_the_chosen_device(no_gpu):
    assert devices.probe_device(("auto", "auto")).describe() == "cpu (float32)"
    assert devices.probe_device(("cuda", "auto")).describe() == "cpu (float32)"  # absent


def test_a_choice_settings_could_not_have_says_so_and_why(no_gpu):
    """CUDA + float16 without a GPU ran on the CPU in float32 with no word (issue 11, item 14)."""
    choice = devices.choose_device("cuda", "float16")
    assert (choice.device, choice.dtype, choice.fell_back) == ("cpu", "float32", True)
    assert choice.note() == ("Running on cpu (float32): CUDA was chosen in Settings but is not "
                             "available; float16 is not supported well on the CPU")
    assert not devices.choose_device("auto", "auto").fell_back
    assert not devices.choose_device("cpu", "float32").fell_back
