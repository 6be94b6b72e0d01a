"""Split model parts are recognised by their tensors, in the original layouts
(written by split_parts) and in diffusers' and transformers' own layouts (tiny
real modules saved as they save them), whatever the file is called."""

from __future__ import annotations

import pytest
import split_parts as sp
import torch
from safetensors.torch import save_file

from artstudio.model_files import components as c
from artstudio.model_files.tensor_table import read_tensor_table, shapes_of


def _recognise(path):
    return c.recognise_part(shapes_of(read_tensor_table(path)))


@pytest.mark.parametrize("shapes,role,kind,family,width", [
    (sp.flux1(), c.DIFFUSION, "flux-dev", "flux", 0),
    (sp.flux1(prefix="model.diffusion_model."), c.DIFFUSION, "flux-dev", "flux", 0),
    (sp.flux1(guidance=False), c.DIFFUSION, "flux-schnell", "flux", 0),
    (sp.flux1(image_in=384), c.DIFFUSION, "flux-fill", "flux", 0),
    (sp.flux1(image_in=128), c.DIFFUSION, "flux-depth", "flux", 0),
    (sp.flux2(), c.DIFFUSION, "flux2-klein", "flux2", 0),
    (sp.flux2(guidance=True), c.DIFFUSION, "flux2-dev", "flux2", 0),
    (sp.sd3(), c.DIFFUSION, "sd3-medium", "sd3", 0),
    (sp.sd3(attn2=True), c.DIFFUSION, "sd35-medium", "sd3", 0),
    (sp.sd3(depth=38), c.DIFFUSION, "sd35-large", "sd3", 0),
    (sp.z_image(), c.DIFFUSION, "z-image-turbo", "z-image", 0),
    (sp.clip(), c.TEXT_ENCODER, "clip-l", "", 24),
    (sp.clip(prefix=""), c.TEXT_ENCODER, "clip-l", "", 24),
    (sp.clip_g(), c.TEXT_ENCODER, "clip-g", "", 24),
    (sp.clip(layers=24), c.TEXT_ENCODER, "clip-h", "", 24),
    (sp.t5(), c.TEXT_ENCODER, "t5", "", 32),
    (sp.qwen3(), c.TEXT_ENCODER, "qwen3", "", 16),
    (sp.qwen3(prefix=""), c.TEXT_ENCODER, "qwen3", "", 16),
    (sp.qwen25(), c.TEXT_ENCODER, "qwen2.5", "", 16),
    (sp.vae(16), c.VAE, "vae", "", 16),
    (sp.vae(4), c.VAE, "vae", "", 4),
    (sp.vae(32), c.VAE, "vae", "", 32),
])
def test_original_layouts(tmp_path, shapes, role, kind, family, width):
    # A misleading name: only the tensors decide.
    part = _recognise(sp.write(tmp_path / "clip_l.safetensors", shapes))
    assert (part.role, part.kind, part.family, part.width) == (role, kind, family, width)


def test_widths_a_diffusion_model_joins_at(tmp_path):
    flux = _recognise(sp.write(tmp_path / "f.safetensors", sp.flux1(text=40, pooled=20)))
    assert [(s.kind, s.width) for s in flux.needs] == [("clip-l", 20), ("t5", 40), ("vae", 16)]
    assert flux.variants == ("flux-dev", "flux-kontext")
    klein = _recognise(sp.write(tmp_path / "k.safetensors", sp.flux2(qwen=12)))
    assert [(s.kind, s.width) for s in klein.needs] == [("qwen3", 12), ("vae", 32)]
    z = _recognise(sp.write(tmp_path / "z.safetensors", sp.z_image(qwen=20)))
    assert [(s.kind, s.width) for s in z.needs] == [("qwen3", 20), ("vae", 16)]
    sd3 = _recognise(sp.write(tmp_path / "s.safetensors", sp.sd3(vae_inside=True)))
    assert [(s.kind, s.optional) for s in sd3.missing_slots] == [
        ("clip-l", False), ("clip-g", False), ("t5", True)]
    assert _recognise(sp.write(tmp_path / "l.safetensors", sp.sd3(depth=38))).variants == (
        "sd35-large", "sd35-large-turbo")


def test_not_a_part(tmp_path):
    sd_unet = {"model.diffusion_model.input_blocks.0.0.weight": (8, 4, 3, 3),
               "model.diffusion_model.out.2.weight": (4, 8, 3, 3)}
    assert _recognise(sp.write(tmp_path / "sd.safetensors", sd_unet)) is None
    esrgan = {"conv_first.weight": (8, 3, 3, 3), "body.0.rdb1.conv1.weight": (8, 8, 3, 3)}
    assert _recognise(sp.write(tmp_path / "up.safetensors", esrgan)) is None


def _save_module(module, path):
    save_file({k: v.detach().clone().contiguous() for k, v in module.state_dict().items()},
              str(path))
    return path


def test_diffusers_and_transformers_layouts(tmp_path):
    from diffusers import AutoencoderKL, FluxTransformer2DModel, SD3Transformer2DModel
    from diffusers.models.autoencoders.autoencoder_kl_flux2 import AutoencoderKLFlux2
    from diffusers.models.transformers.transformer_flux2 import Flux2Transformer2DModel
    from diffusers.models.transformers.transformer_z_image import ZImageTransformer2DModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        Qwen3Config,
        Qwen3Model,
        T5Config,
        T5EncoderModel,
    )

    torch.manual_seed(0)
    flux_args = dict(patch_size=1, num_layers=1, num_single_layers=1, attention_head_dim=16,
                     num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=24,
                     axes_dims_rope=(4, 6, 6))
    cases = [
        (FluxTransformer2DModel(in_channels=64, guidance_embeds=True, **flux_args), "flux-dev"),
        (FluxTransformer2DModel(in_channels=64, guidance_embeds=False, **flux_args),
         "flux-schnell"),
        (FluxTransformer2DModel(in_channels=384, out_channels=64, guidance_embeds=True,
                                **flux_args), "flux-fill"),
        (SD3Transformer2DModel(sample_size=32, patch_size=2, in_channels=16, num_layers=1,
                               attention_head_dim=8, num_attention_heads=4,
                               caption_projection_dim=32, joint_attention_dim=32,
                               pooled_projection_dim=64, out_channels=16,
                               pos_embed_max_size=32), "sd3-medium"),
        (SD3Transformer2DModel(sample_size=32, patch_size=2, in_channels=16, num_layers=2,
                               attention_head_dim=8, num_attention_heads=4,
                               caption_projection_dim=32, joint_attention_dim=32,
                               pooled_projection_dim=64, out_channels=16, pos_embed_max_size=32,
                               dual_attention_layers=(0,)), "sd35-medium"),
        (ZImageTransformer2DModel(all_patch_size=(2,), all_f_patch_size=(1,), in_channels=16,
                                  dim=32, n_layers=1, n_refiner_layers=1, n_heads=2,
                                  n_kv_heads=2, cap_feat_dim=16, axes_dims=[4, 6, 6],
                                  axes_lens=[64, 32, 32]), "z-image-turbo"),
        (Flux2Transformer2DModel(patch_size=1, in_channels=128, num_layers=1,
                                 num_single_layers=1, attention_head_dim=16,
                                 num_attention_heads=2, joint_attention_dim=48,
                                 axes_dims_rope=(4, 4, 4, 4), guidance_embeds=False),
         "flux2-klein"),
        (AutoencoderKL(block_out_channels=(8, 16), down_block_types=["DownEncoderBlock2D"] * 2,
                       up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=16,
                       norm_num_groups=8, use_quant_conv=False, use_post_quant_conv=False),
         "vae"),
        (AutoencoderKLFlux2(block_out_channels=(8, 16),
                            down_block_types=["DownEncoderBlock2D"] * 2,
                            up_block_types=["UpDecoderBlock2D"] * 2, norm_num_groups=8), "vae"),
        (CLIPTextModel(CLIPTextConfig(hidden_size=24, intermediate_size=37, num_hidden_layers=2,
                                      num_attention_heads=4, vocab_size=100, bos_token_id=0,
                                      eos_token_id=1, pad_token_id=1)), "clip-l"),
        (T5EncoderModel(T5Config(d_model=32, d_ff=37, num_layers=2, num_heads=4, d_kv=8,
                                 vocab_size=100, feed_forward_proj="gated-gelu")), "t5"),
        (Qwen3Model(Qwen3Config(hidden_size=16, intermediate_size=37, num_hidden_layers=2,
                                num_attention_heads=2, num_key_value_heads=2, head_dim=8,
                                vocab_size=100)), "qwen3"),
    ]
    for i, (module, kind) in enumerate(cases):
        part = _recognise(_save_module(module, tmp_path / f"part{i}.safetensors"))
        assert part is not None and part.kind == kind, (type(module).__name__, part)
    flux = _recognise(tmp_path / "part0.safetensors")
    assert [(s.kind, s.width) for s in flux.needs] == [("clip-l", 24), ("t5", 32), ("vae", 16)]
