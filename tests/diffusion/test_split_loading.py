"""A FLUX.1 split set as ComfyUI keeps it (bf16 transformer, ComfyUI-style
CLIP-L, fp8 T5, the ae VAE in its original layout; and a GGUF transformer)
assembles, loads offline through the config folder beside the transformer and
generates the pixels the same weights give in one pipeline."""

from __future__ import annotations

import pytest
import torch
from split_parts import save_split_set

from artstudio.diffusion.split_loading import load_split_pipeline
from artstudio.engine.errors import UserFacingError
from artstudio.model_files.component_sets import assemble

SIZE = 64


@pytest.fixture
def flux_dev(tiny_flux):
    from diffusers import FluxPipeline

    folder = tiny_flux["flux-dev"]["diffusers"]
    return FluxPipeline.from_pretrained(str(folder), local_files_only=True), folder


def _generate(pipe):
    return pipe(prompt="a red cat", height=SIZE, width=SIZE, num_inference_steps=2,
                guidance_scale=3.5, generator=torch.Generator().manual_seed(7),
                output_type="np").images[0]


def test_a_split_set_generates_what_its_weights_give(flux_dev, tmp_path):
    pipe, folder = flux_dev
    transformer = save_split_set(pipe, folder, tmp_path)
    found = assemble(transformer)
    assert found.label == "FLUX.1 dev: tiny-flux + t5xxl_fp8_e4m3fn + clip_l + ae"
    loaded = load_split_pipeline(found, transformer.with_suffix(""), torch.float32)
    assert type(loaded).__name__ == "FluxPipeline"
    assert loaded.text_encoder_2.dtype == torch.float32  # fp8 upcast on load
    # The same weights, rounded as the files store them, in the original pipeline.
    with torch.no_grad():
        for p in pipe.transformer.parameters():
            p.copy_(p.to(torch.bfloat16).float())
        for p in pipe.text_encoder_2.parameters():
            p.copy_(p.to(torch.float8_e4m3fn).float())
    got, expected = _generate(loaded), _generate(pipe)
    assert got.shape == (SIZE, SIZE, 3)
    assert abs(got - expected).max() < 1e-5


def test_a_gguf_transformer_loads_quantised(flux_dev, tmp_path):
    from diffusers.quantizers.gguf.utils import GGUFLinear

    pipe, folder = flux_dev
    transformer = save_split_set(pipe, folder, tmp_path, gguf=True)
    found = assemble(transformer)
    assert found.complete and transformer.suffix == ".gguf"
    loaded = load_split_pipeline(found, transformer.with_suffix(""), torch.float32)
    assert isinstance(loaded.transformer.transformer_blocks[0].attn.to_q, GGUFLinear)
    assert _generate(loaded).shape == (SIZE, SIZE, 3)


def test_an_incomplete_set_is_refused_before_loading(flux_dev, tmp_path):
    pipe, folder = flux_dev
    transformer = save_split_set(pipe, folder, tmp_path)
    (tmp_path / "models/vae/ae.safetensors").unlink()
    found = assemble(transformer)
    with pytest.raises(UserFacingError, match=r"No 16-channel VAE for FLUX\.1 dev"):
        load_split_pipeline(found, transformer.with_suffix(""), torch.float32)


def test_too_little_memory_is_refused_before_a_weight_is_read(flux_dev, tmp_path,
                                                              monkeypatch):
    from artstudio.diffusion import loading, split_loading
    from artstudio.engine import devices
    from artstudio.model_files.memory import NotEnoughMemory

    pipe, folder = flux_dev
    transformer = save_split_set(pipe, folder, tmp_path)
    monkeypatch.setattr(devices, "free_memory_bytes", lambda device="cpu": 100_000_000)
    monkeypatch.setattr(split_loading, "load_split_pipeline",
                        lambda *a, **k: pytest.fail("loaded although it cannot fit"))
    with pytest.raises(NotEnoughMemory) as caught:
        loading.load_model(transformer, device="cpu")
    message = str(caught.value)
    assert message.startswith("This model needs about") and "0.1 GB of memory is free" in message


def test_a_transformer_file_holding_its_vae(flux_dev, tmp_path):
    """As Stability's SD3.5 files and some FLUX ones come: the VAE inside, encoders apart."""
    from safetensors.torch import load_file, save_file

    pipe, folder = flux_dev
    transformer = save_split_set(pipe, folder, tmp_path)
    ae = tmp_path / "models/vae/ae.safetensors"
    both = {**load_file(str(transformer)),
            **{"vae." + k: v for k, v in load_file(str(ae)).items()}}
    save_file(both, str(transformer))
    ae.unlink()
    found = assemble(transformer)
    assert found.complete and found.vae is None and found.inside == ("vae",)
    assert found.label == "FLUX.1 dev: tiny-flux + t5xxl_fp8_e4m3fn + clip_l"
    loaded = load_split_pipeline(found, transformer.with_suffix(""), torch.float32)
    with torch.no_grad():
        for p in pipe.transformer.parameters():
            p.copy_(p.to(torch.bfloat16).float())
        for p in pipe.text_encoder_2.parameters():
            p.copy_(p.to(torch.float8_e4m3fn).float())
    assert abs(_generate(loaded) - _generate(pipe)).max() < 1e-5
