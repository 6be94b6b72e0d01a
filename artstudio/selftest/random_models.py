"""RANDOMLY INITIALISED models in real architectures, for `--self-test`.

Nothing here is a real model: the weights are random and the images noise.
They have the shapes of real ones (Stable Diffusion 1, a compact SRVGG
upscaler, a CycleGAN ResNet generator) and are saved in the formats artists'
files come in, so the self-test proves that loading and running work on this
machine without any downloaded weights, the way diffusers' own tests do. The
other families' tiny builders live with the tests (tests/tiny_pipelines.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artstudio.engine.network_building import builds_networks
from artstudio.model_files.offline import offline_and_quiet

if TYPE_CHECKING:
    from artstudio.style.cyclegan import GeneratorShape

# A tiny byte-pair vocabulary: letters, their end-of-word forms and a few merges.
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_MERGES = ["c a", "ca t</w>", "d o", "do g</w>", "r e", "re d</w>", "t h", "th e</w>"]


def write_tiny_tokenizer(folder: Path, pad_token: str = "<|endoftext|>") -> Path:
    """A CLIP-style BPE tokenizer with ~90 tokens (ids fit a 1000-row embedding)."""
    from transformers import CLIPTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<|startoftext|>", "<|endoftext|>", "!"]
    tokens += list(_LETTERS) + [c + "</w>" for c in _LETTERS]
    tokens += [m.replace(" ", "") for m in _MERGES]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(_MERGES) + "\n",
                                       encoding="utf-8")
    tok = CLIPTokenizer(
        vocab_file=str(folder / "vocab.json"),
        merges_file=str(folder / "merges.txt"),
        pad_token=pad_token,
        model_max_length=77,
    )
    tok.save_pretrained(str(folder))
    return folder


def text_config(hidden_act: str, hidden: int = 32):
    from transformers import CLIPTextConfig

    # bos 0 / eos 2 as in diffusers' tests: with eos_token_id == 2 CLIP pools
    # at the highest token id, which works with any tiny vocabulary.
    return CLIPTextConfig(
        bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=hidden, intermediate_size=37,
        layer_norm_eps=1e-5, num_attention_heads=4, num_hidden_layers=2, vocab_size=1000,
        hidden_act=hidden_act, projection_dim=32,
    )


def unet_kwargs(in_channels: int = 4, cross_attention_dim: int = 32) -> dict[str, Any]:
    """The tiny UNet's shape (diffusers' test sizes), for SD1 and its relatives."""
    return dict(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
        in_channels=in_channels, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=cross_attention_dim,
    )


def tiny_vae(scaling_factor: float = 0.18215):
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
        sample_size=64, scaling_factor=scaling_factor,
    )


def tiny_scheduler(prediction_type: str = "epsilon"):
    from diffusers import EulerDiscreteScheduler

    return EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        steps_offset=1, timestep_spacing="leading", prediction_type=prediction_type,
    )


def build_random_sd1(tokenizer_dir: Path, seed: int = 0):
    """A random SD1 text-to-image pipeline on the CPU in float32."""
    offline_and_quiet()
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**unet_kwargs())
    torch.manual_seed(seed + 1)
    vae = tiny_vae()
    torch.manual_seed(seed + 2)
    tokenizer = CLIPTokenizer.from_pretrained(str(tokenizer_dir))
    return StableDiffusionPipeline(
        vae=vae, text_encoder=CLIPTextModel(text_config("quick_gelu")), tokenizer=tokenizer,
        unet=unet, scheduler=tiny_scheduler(), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)


@builds_networks
def save_random_sd1(folder: Path, seed: int = 0) -> Path:
    """Build and save the random SD1 pipeline as a diffusers folder."""
    folder = Path(folder)
    tok_dir = write_tiny_tokenizer(folder.with_name(folder.name + "-tokenizer"))
    build_random_sd1(tok_dir, seed).save_pretrained(str(folder), safe_serialization=True)
    return folder


FLUX_VARIANTS = ("flux-dev", "flux-schnell", "flux-fill", "flux-kontext")
_T5_WORDS = ["a", "cat", "dog", "red", "the", "night", "make", "it", "ink", "sketch", "into",
             "turn", "blue", "sky", "lighthouse", "at", "dusk"]


def write_tiny_t5_tokenizer(folder: Path) -> Path:
    """A T5TokenizerFast over a small Unigram vocabulary, built locally (the
    Hub's tiny test tokenizers cannot be downloaded here)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import T5TokenizerFast

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    vocab += [("▁" + w, -3.0) for w in _T5_WORDS]
    vocab += [(c, -5.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    tok = Tokenizer(models.Unigram(vocab, unk_id=2))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    fast = T5TokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>",
                           pad_token="<pad>", extra_ids=0, model_max_length=512)
    fast.save_pretrained(str(folder))
    return Path(folder)


def build_random_flux(variant: str, tokenizer_dir: Path, t5_dir: Path, seed: int = 0):
    """A random FLUX.1 pipeline of `variant` (one of FLUX_VARIANTS) on the CPU in
    float32: 1+1 transformer layers, 2 heads of 16, a 4-block 16-channel VAE
    (an 8x downscale, as the real one), CLIP and T5 encoders of width 32."""
    offline_and_quiet()
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxFillPipeline,
        FluxKontextPipeline,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextModel, CLIPTokenizer, T5Config, T5EncoderModel, T5TokenizerFast

    if variant not in FLUX_VARIANTS:
        raise ValueError(f"unknown random FLUX variant {variant!r}")
    torch.manual_seed(seed)
    fill = variant == "flux-fill"
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=384 if fill else 64, out_channels=64 if fill else None,
        num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=32, pooled_projection_dim=32, axes_dims_rope=(4, 6, 6),
        guidance_embeds=variant != "flux-schnell")
    torch.manual_seed(seed + 1)
    vae = AutoencoderKL(
        block_out_channels=(8, 16, 16, 16), in_channels=3, out_channels=3, latent_channels=16,
        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=1, norm_num_groups=8, sample_size=64, use_quant_conv=False,
        use_post_quant_conv=False, shift_factor=0.1159, scaling_factor=0.3611)
    torch.manual_seed(seed + 2)
    text_encoder = CLIPTextModel(text_config("quick_gelu")).eval()
    torch.manual_seed(seed + 3)
    text_encoder_2 = T5EncoderModel(T5Config(
        vocab_size=1000, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        dropout_rate=0.0, feed_forward_proj="gated-gelu", is_encoder_decoder=False)).eval()
    cls = {"flux-fill": FluxFillPipeline, "flux-kontext": FluxKontextPipeline}.get(
        variant, FluxPipeline)
    return cls(
        scheduler=FlowMatchEulerDiscreteScheduler(
            shift=3.0, use_dynamic_shifting=variant != "flux-schnell", base_shift=0.5,
            max_shift=1.15, base_image_seq_len=256, max_image_seq_len=4096),
        vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
        tokenizer=CLIPTokenizer.from_pretrained(str(tokenizer_dir)),
        tokenizer_2=T5TokenizerFast.from_pretrained(str(t5_dir)), transformer=transformer)


@builds_networks
def save_random_flux(folder: Path, variant: str = "flux-dev", seed: int = 0) -> Path:
    """Build and save a random FLUX.1 pipeline as a diffusers folder."""
    folder = Path(folder)
    clip = write_tiny_tokenizer(folder.with_name(folder.name + "-tokenizer"))
    t5 = write_tiny_t5_tokenizer(folder.with_name(folder.name + "-t5-tokenizer"))
    build_random_flux(variant, clip, t5, seed).save_pretrained(str(folder),
                                                               safe_serialization=True)
    return folder


@builds_networks
def save_random_compact(path: Path, scale: int = 2, num_feat: int = 8, num_conv: int = 2,
                        seed: int = 0) -> Path:
    """A randomly initialised compact SRVGG network saved as a .pth state dict,
    the way Real-ESRGAN's compact models ship (for tests, benchmarks and the
    self-test: it upscales, but learned nothing)."""
    import torch
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(seed)
    torch.save(Compact(num_feat=num_feat, num_conv=num_conv, upscale=scale).state_dict(), path)
    return path


@builds_networks
def save_random_generator(path: str | Path, n_blocks: int = 6, ngf: int = 8,
                          seed: int = 0) -> GeneratorShape:
    """Write a randomly initialised generator in the release's format (a
    state dict saved with torch.save): for tests and the self-test."""
    import torch

    from artstudio.style.cyclegan import GeneratorShape, build_generator

    torch.manual_seed(seed)
    shape = GeneratorShape(ngf=ngf, n_blocks=n_blocks)
    net = build_generator(shape)
    torch.save(net.state_dict(), str(path))
    return shape
