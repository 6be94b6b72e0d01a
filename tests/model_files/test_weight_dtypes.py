"""bf16, fp16 and fp8 files load upcast to the compute type; ComfyUI's scaled
fp8 files get their scales multiplied back; devices that cannot keep or
compute in fp8 are told so in one sentence."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from artstudio.engine.errors import RequestRefused
from artstudio.model_files import weight_dtypes
from artstudio.model_files.tensor_table import main_type, read_tensor_table

VALUES = [0.5, -1.0, 2.0, 0.125]  # exactly representable in both fp8 formats


@pytest.mark.parametrize("stored", [torch.float8_e4m3fn, torch.float8_e5m2, torch.bfloat16])
@pytest.mark.parametrize("compute", [torch.float16, torch.float32])
def test_floats_upcast_on_load(tmp_path, stored, compute):
    path = tmp_path / "w.safetensors"
    save_file({"w": torch.tensor(VALUES).to(stored), "ids": torch.arange(3)}, str(path))
    state = weight_dtypes.load_state_dict_as(path, compute)
    assert state["w"].dtype == compute and state["w"].tolist() == VALUES
    assert state["ids"].dtype == torch.int64  # integers stay as they are


def test_scaled_fp8_is_rescaled(tmp_path):
    path = tmp_path / "t5xxl_fp8_e4m3fn_scaled.safetensors"
    save_file({"layer.weight": torch.tensor(VALUES).to(torch.float8_e4m3fn),
               "layer.scale_weight": torch.tensor(0.25),
               "layer.bias": torch.tensor([1.0]).to(torch.float8_e4m3fn),
               "scaled_fp8": torch.empty(0, dtype=torch.float8_e4m3fn)}, str(path))
    state = weight_dtypes.load_state_dict_as(path, torch.float32)
    assert sorted(state) == ["layer.bias", "layer.weight"]
    assert state["layer.weight"].tolist() == [v * 0.25 for v in VALUES]
    assert state["layer.bias"].tolist() == [1.0]


def test_an_fp8_text_encoder_runs_in_the_compute_type(tmp_path):
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    config = T5Config(d_model=32, d_ff=48, num_layers=2, num_heads=4, d_kv=8, vocab_size=100,
                      feed_forward_proj="gated-gelu")
    original = T5EncoderModel(config).eval()
    state = {k: v.detach().clone() for k, v in original.state_dict().items()}
    path = tmp_path / "t5xxl_fp8_e4m3fn.safetensors"
    save_file({k: v.to(torch.float8_e4m3fn) for k, v in state.items()
               if k != "encoder.embed_tokens.weight"}, str(path))
    assert main_type(read_tensor_table(path)) == "F8_E4M3"
    loaded = T5EncoderModel(config).eval()
    missing, unexpected = loaded.load_state_dict(
        weight_dtypes.load_state_dict_as(path, torch.float32), strict=False)
    assert not unexpected and set(missing) <= {"encoder.embed_tokens.weight"}
    rounded = T5EncoderModel(config).eval()
    rounded.load_state_dict({k: v.to(torch.float8_e4m3fn).float() for k, v in state.items()})
    ids = torch.tensor([[3, 14, 15, 9]])
    with torch.no_grad():
        got = loaded(input_ids=ids).last_hidden_state
        expected = rounded(input_ids=ids).last_hidden_state
    assert got.dtype == torch.float32 and torch.equal(got, expected)


def test_which_devices_can_keep_or_compute_fp8(monkeypatch):
    assert weight_dtypes.fp8_problem("cpu", weight_dtypes.FP8_STORE) is None
    cpu = weight_dtypes.fp8_problem("cpu", weight_dtypes.FP8_COMPUTE)
    assert "compute capability 8.9" in cpu and "CPU" in cpu
    assert "no float8 type" in weight_dtypes.fp8_problem("mps", weight_dtypes.FP8_STORE)
    monkeypatch.setattr(weight_dtypes, "_cuda_capability", lambda device: (8, 6))
    old = weight_dtypes.fp8_problem("cuda", weight_dtypes.FP8_COMPUTE)
    assert "this GPU has 8.6" in old and "upcast on load" in old
    assert weight_dtypes.fp8_problem("cuda", weight_dtypes.FP8_STORE) is None
    with pytest.raises(RequestRefused, match=r"8\.6"):
        weight_dtypes.require_fp8("cuda:0", weight_dtypes.FP8_COMPUTE)
    monkeypatch.setattr(weight_dtypes, "_cuda_capability", lambda device: (9, 0))
    assert weight_dtypes.fp8_problem("cuda", weight_dtypes.FP8_COMPUTE) is None
    weight_dtypes.require_fp8("cuda", weight_dtypes.FP8_COMPUTE)
