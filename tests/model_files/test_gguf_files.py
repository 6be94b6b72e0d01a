"""GGUF transformers: read by their header, told apart by their tensor names,
refused with the type named where diffusers cannot read them, and loaded
quantised through diffusers' GGUF support."""

from __future__ import annotations

import pytest
import split_parts as sp
import torch

from artstudio.model_files import gguf_files, identify
from artstudio.model_files.component_sets import assemble
from artstudio.model_files.safe_load import InvalidModelError


def _flux_with_wide_rows():
    # Rows 256 wide so the Q8_0 / IQ2_XXS blocks (32 / 256 values) fit.
    shapes = sp.flux1()
    shapes["double_blocks.0.img_attn.qkv.weight"] = (96, 256)
    return shapes


def test_types_match_what_diffusers_reads():
    import gguf
    from diffusers.quantizers.gguf.utils import SUPPORTED_GGUF_QUANT_TYPES

    readable = {t.name for t in SUPPORTED_GGUF_QUANT_TYPES} | {"F32", "F16"}
    assert set(gguf_files.DIFFUSERS_GGUF_TYPES) == readable
    assert all(name in gguf.GGMLQuantizationType.__members__
               for name in gguf_files.DIFFUSERS_GGUF_TYPES)


def test_a_gguf_transformer_is_identified_and_assembled(tmp_path):
    models = tmp_path / "models"
    (models / "unet").mkdir(parents=True)
    path = sp.write_gguf(models / "unet/flux1-dev-Q8_0.gguf", _flux_with_wide_rows())
    table = gguf_files.read_gguf_table(path)
    assert table["double_blocks.0.img_attn.qkv.weight"].shape == (96, 256)  # torch order
    assert table["double_blocks.0.img_attn.qkv.weight"].dtype == "Q8_0"
    assert table["img_in.bias"].dtype == "F32"
    info = identify.identify(path)
    assert (info.format, info.kind, info.family) == ("split", "flux-dev", "flux")
    sp.write(models / "clip/clip_l.safetensors", sp.clip())
    sp.write(models / "clip/t5xxl_fp8_e4m3fn.safetensors", sp.t5(), dtype=torch.float8_e4m3fn)
    sp.write(models / "vae/ae.safetensors", sp.vae(16))
    found = assemble(path)
    assert found.complete
    assert found.label == "FLUX.1 dev: flux1-dev-Q8_0 + t5xxl_fp8_e4m3fn + clip_l + ae"
    gguf_files.check_loadable(path, table)  # Q8_0 and F32: readable


def test_a_type_diffusers_cannot_read_is_refused_by_name(tmp_path):
    path = sp.write_gguf(tmp_path / "flux1-dev-IQ2_XXS.gguf", _flux_with_wide_rows(),
                         quant="IQ2_XXS")
    table = gguf_files.read_gguf_table(path)
    assert gguf_files.unsupported_types(table) == ["IQ2_XXS"]
    assert identify.identify(path).kind == "flux-dev"  # still recognised, for the list
    with pytest.raises(gguf_files.UnsupportedGGUFType) as caught:
        gguf_files.load_transformer(object, path, tmp_path, "transformer", torch.float32)
    message = str(caught.value)
    assert message.startswith("flux1-dev-IQ2_XXS.gguf is quantised as IQ2_XXS, which "
                              "diffusers' GGUF support cannot read.")
    assert "Q4_K" in message and "\n" not in message


def test_damaged_gguf_files_get_one_line(tmp_path):
    path = sp.write_gguf(tmp_path / "ok.gguf", _flux_with_wide_rows())
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(path.read_bytes()[:200])
    garbage = tmp_path / "renamed.gguf"
    garbage.write_bytes(b"PK\x03\x04" + bytes(4000))
    for bad in (truncated, garbage):
        with pytest.raises(InvalidModelError) as caught:
            gguf_files.read_gguf_table(bad)
        assert bad.name in str(caught.value) and "\n" not in str(caught.value)
        info = identify.identify(bad)
        assert info.kind == "invalid" and bad.name in info.notes[0]


def test_loads_quantised_and_computes_like_the_original(tmp_path):
    from diffusers import FluxTransformer2DModel
    from diffusers.quantizers.gguf.utils import GGUFLinear

    torch.manual_seed(0)
    model = FluxTransformer2DModel(
        patch_size=1, in_channels=64, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32,
        axes_dims_rope=(4, 6, 6), guidance_embeds=True).eval()
    model.save_config(tmp_path / "configs" / "transformer")
    path = sp.write_gguf(tmp_path / "tiny-flux-Q8_0.gguf", dict(model.state_dict()))
    loaded = gguf_files.load_transformer(FluxTransformer2DModel, path, tmp_path / "configs",
                                         "transformer", torch.float32)
    assert isinstance(loaded.transformer_blocks[0].attn.to_q, GGUFLinear)
    inputs = dict(hidden_states=torch.randn(1, 16, 64), encoder_hidden_states=torch.randn(1, 8, 32),
                  pooled_projections=torch.randn(1, 32), timestep=torch.tensor([0.5]),
                  img_ids=torch.zeros(16, 3), txt_ids=torch.zeros(8, 3),
                  guidance=torch.tensor([3.5]))
    with torch.no_grad():
        expected, got = model(**inputs).sample, loaded(**inputs).sample
    assert got.shape == expected.shape
    # Q8_0 keeps 8 bits per weight: close, not equal.
    assert (got - expected).abs().max() < 0.05 * expected.abs().max()
    assert not torch.equal(got, expected)
