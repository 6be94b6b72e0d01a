"""A FLUX.1 split set as ComfyUI keeps it (bf16 transformer, ComfyUI-style
CLIP-L, fp8 T5, the ae VAE in its original layout; and a GGUF transformer)
assembles, loads offline through the config folder beside the transformer and
generates the pixels the same weights give in one pipeline."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import save_file
from tiny_pipelines import _clip_l, _vae_key

from artstudio.diffusion.split_loading import load_split_pipeline
from artstudio.engine.errors import UserFacingError
from artstudio.model_files.component_sets import assemble

SIZE = 64


def _tiny_flux(root):
    """A random FLUX.1 dev pipeline saved as a diffusers folder (1+1 layers, width 32)."""
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        CLIPTextModel,
        CLIPTokenizer,
        T5Config,
        T5EncoderModel,
        T5TokenizerFast,
    )

    from artstudio.selftest.random_models import text_config, write_tiny_tokenizer

    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=64, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32,
        axes_dims_rope=(4, 6, 6), guidance_embeds=True)
    vae = AutoencoderKL(
        block_out_channels=(8, 16, 16, 16), latent_channels=16,
        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=1, norm_num_groups=8, sample_size=SIZE, use_quant_conv=False,
        use_post_quant_conv=False, shift_factor=0.1159, scaling_factor=0.3611)
    clip = CLIPTextModel(text_config("quick_gelu")).eval()
    t5 = T5EncoderModel(T5Config(vocab_size=1000, d_model=32, d_kv=8, d_ff=37, num_layers=2,
                                 num_heads=4, dropout_rate=0.0, feed_forward_proj="gated-gelu",
                                 is_encoder_decoder=False)).eval()
    unigram = Tokenizer(models.Unigram([("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
                                       + [(c, -3.0) for c in "abcdefghijklmnopqrstuvwxyz"],
                                       unk_id=2))
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    t5_tokenizer = T5TokenizerFast(tokenizer_object=unigram, eos_token="</s>",
                                   unk_token="<unk>", pad_token="<pad>", extra_ids=0)
    pipe = FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True),
        vae=vae, text_encoder=clip, text_encoder_2=t5, transformer=transformer,
        tokenizer=CLIPTokenizer.from_pretrained(str(write_tiny_tokenizer(root / "tok"))),
        tokenizer_2=t5_tokenizer)
    pipe.save_pretrained(str(root / "ref"), safe_serialization=True)
    return pipe


def _save(state, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in state.items()}, str(path))
    return path


def _configs_only(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.safetensors"))


def _comfy_set(tmp_path, pipe, transformer_name="tiny-flux.safetensors", gguf=False):
    import split_parts

    models = tmp_path / "ComfyUI" / "models"
    folder = models / "diffusion_models"
    state = pipe.transformer.state_dict()
    if gguf:
        folder.mkdir(parents=True)
        transformer = split_parts.write_gguf(folder / transformer_name, dict(state))
    else:
        transformer = _save({k: v.to(torch.bfloat16) for k, v in state.items()},
                            folder / transformer_name)
    _configs_only(tmp_path / "ref", transformer.with_suffix(""))
    _save(_clip_l(pipe.text_encoder.state_dict(), ""), models / "text_encoders/clip_l.safetensors")
    _save({k: v.to(torch.float8_e4m3fn) for k, v in pipe.text_encoder_2.state_dict().items()
           if k != "encoder.embed_tokens.weight"},
          models / "text_encoders/t5xxl_fp8_e4m3fn.safetensors")
    n = len(pipe.vae.config.block_out_channels)
    _save(dict(_vae_key(k, v, n) for k, v in pipe.vae.state_dict().items()),
          models / "vae/ae.safetensors")
    return transformer


def _generate(pipe):
    return pipe(prompt="a red cat", height=SIZE, width=SIZE, num_inference_steps=2,
                guidance_scale=3.5, generator=torch.Generator().manual_seed(7),
                output_type="np").images[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("flux")
    return root, _tiny_flux(root)


def test_a_split_set_generates_what_its_weights_give(tiny, tmp_path):
    root, pipe = tiny
    shutil.copytree(root / "ref", tmp_path / "ref")
    transformer = _comfy_set(tmp_path, pipe)
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


def test_a_gguf_transformer_loads_quantised(tiny, tmp_path):
    from diffusers.quantizers.gguf.utils import GGUFLinear

    root, pipe = tiny
    shutil.copytree(root / "ref", tmp_path / "ref")
    transformer = _comfy_set(tmp_path, pipe, "tiny-flux-Q8_0.gguf", gguf=True)
    found = assemble(transformer)
    assert found.complete
    loaded = load_split_pipeline(found, transformer.with_suffix(""), torch.float32)
    assert isinstance(loaded.transformer.transformer_blocks[0].attn.to_q, GGUFLinear)
    assert _generate(loaded).shape == (SIZE, SIZE, 3)


def test_an_incomplete_set_is_refused_before_loading(tiny, tmp_path):
    root, pipe = tiny
    shutil.copytree(root / "ref", tmp_path / "ref")
    transformer = _comfy_set(tmp_path, pipe)
    (tmp_path / "ComfyUI/models/vae/ae.safetensors").unlink()
    found = assemble(transformer)
    with pytest.raises(UserFacingError, match=r"No 16-channel VAE for FLUX\.1 dev"):
        load_split_pipeline(found, transformer.with_suffix(""), torch.float32)
