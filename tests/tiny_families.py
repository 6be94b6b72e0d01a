"""Tiny RANDOMLY INITIALISED pipelines of the transformer families (SD3 / SD3.5,
Z-Image, FLUX.2 Klein), for the tests only.

Nothing here is a real model: the weights are random, the images are noise.
They have the shapes of the real families (SD3's joint transformer with three
text encoders and a 16-channel VAE; SD3.5 medium's dual-attention blocks; the
tokenizers each family uses), built from the sizes diffusers' own tests use,
so every loading and generation path runs on a CPU in a fraction of a second.
Tokenizers are built here with the `tokenizers` library: the hub's tiny test
tokenizers cannot be downloaded.

`sd3_original_state_dict` writes a diffusers SD3 pipeline in the layout of the
all-in-one files Stability AI and ComfyUI publish (`model.diffusion_model.
joint_blocks.*`, `first_stage_model.*`, `text_encoders.clip_l|clip_g|t5xxl.*`).
"""

from __future__ import annotations

from pathlib import Path

from tiny_pipelines import save_both_layouts

from artstudio.model_files.offline import offline_and_quiet
from artstudio.selftest.random_models import text_config, write_tiny_tokenizer

# ---- tokenizers ---------------------------------------------------------------------

_WORDS = ["a", "red", "cat", "dog", "the", "of", "in", "sky", "night", "ink", "blue", "green"]


def write_tiny_t5_tokenizer(folder: Path) -> Path:
    """A SentencePiece-style Unigram tokenizer with T5's special tokens (pad 0,
    eos 1, unk 2), wrapped in transformers' T5 tokenizer class."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [("\u2581" + w, -1.0) for w in _WORDS]
    pieces += [(c, -3.0) for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    backend = Tokenizer(models.Unigram(pieces, unk_id=2))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)])
    tok = T5TokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>",
                          unk_token="<unk>", extra_ids=0, model_max_length=512)
    folder = Path(folder)
    tok.save_pretrained(str(folder))
    return folder


# ---- SD3 / SD3.5 -----------------------------------------------------------------------

SD3_KINDS = ("sd35-medium", "sd35-large")
CLIP_L_WIDTH, CLIP_G_WIDTH, T5_WIDTH = 32, 40, 80  # distinct, as in the real 768 / 1280 / 4096


def tiny_flow_vae(scaling_factor: float, shift_factor: float | None):
    """The 16-channel VAE of the flow-matching families, four blocks so it
    scales by 8 as the real ones do."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 16, 16, 16), in_channels=3, out_channels=3, latent_channels=16,
        down_block_types=["DownEncoderBlock2D"] * 4, up_block_types=["UpDecoderBlock2D"] * 4,
        layers_per_block=1, norm_num_groups=8, sample_size=64, scaling_factor=scaling_factor,
        shift_factor=shift_factor, use_quant_conv=False, use_post_quant_conv=False)


def tiny_t5_encoder():
    from transformers import T5Config, T5EncoderModel

    config = T5Config(vocab_size=64, d_model=T5_WIDTH, d_kv=8, d_ff=37, num_layers=2,
                      num_heads=4, relative_attention_num_buckets=8, dropout_rate=0.0,
                      is_encoder_decoder=False, use_cache=False)
    return T5EncoderModel(config).eval()


def build_tiny_sd3(kind: str, clip_tokenizer: Path, t5_tokenizer: Path | None, seed: int = 0):
    """A random StableDiffusion3Pipeline: SD3.5 medium's dual-attention blocks
    for "sd35-medium", SD3.5 large's plain joint blocks with q/k norms for
    "sd35-large"; no T5 when `t5_tokenizer` is None."""
    offline_and_quiet()
    import torch
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        SD3Transformer2DModel,
        StableDiffusion3Pipeline,
    )
    from transformers import CLIPTextModelWithProjection, CLIPTokenizer

    if kind not in SD3_KINDS:
        raise ValueError(f"unknown tiny SD3 kind {kind!r}")
    torch.manual_seed(seed)
    transformer = SD3Transformer2DModel(
        sample_size=8, patch_size=2, in_channels=16, num_layers=2, attention_head_dim=8,
        num_attention_heads=4, joint_attention_dim=T5_WIDTH, caption_projection_dim=32,
        pooled_projection_dim=64, out_channels=16, pos_embed_max_size=32,
        dual_attention_layers=(0,) if kind == "sd35-medium" else (), qk_norm="rms_norm")
    torch.manual_seed(seed + 1)
    vae = tiny_flow_vae(1.5305, 0.0609)
    torch.manual_seed(seed + 2)
    text_encoder = CLIPTextModelWithProjection(text_config("quick_gelu", CLIP_L_WIDTH)).eval()
    with torch.no_grad():  # SD3 pools CLIP-L unprojected: diffusers' single-file loader
        text_encoder.text_projection.weight.copy_(torch.eye(CLIP_L_WIDTH))  # sets it so too
    torch.manual_seed(seed + 3)
    text_encoder_2 = CLIPTextModelWithProjection(text_config("gelu", CLIP_G_WIDTH)).eval()
    torch.manual_seed(seed + 4)
    tokenizer = CLIPTokenizer.from_pretrained(str(clip_tokenizer))
    tokenizer_2 = CLIPTokenizer.from_pretrained(str(clip_tokenizer), pad_token="!")
    text_encoder_3 = tokenizer_3 = None
    if t5_tokenizer is not None:
        from transformers import T5TokenizerFast

        text_encoder_3 = tiny_t5_encoder()
        tokenizer_3 = T5TokenizerFast.from_pretrained(str(t5_tokenizer))
    return StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), vae=vae,
        text_encoder=text_encoder, tokenizer=tokenizer, text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2, text_encoder_3=text_encoder_3, tokenizer_3=tokenizer_3)


def _sd3_transformer_original(transformer) -> dict:
    """SD3Transformer2DModel weights under the original MMDiT names, the inverse
    of diffusers' convert_sd3_transformer_checkpoint_to_diffusers."""
    import torch
    from diffusers.loaders.single_file_utils import swap_scale_shift

    sd = transformer.state_dict()
    n = transformer.config.num_layers
    dim = transformer.config.caption_projection_dim
    out = {
        "pos_embed": sd["pos_embed.pos_embed"],
        "x_embedder.proj.weight": sd["pos_embed.proj.weight"],
        "x_embedder.proj.bias": sd["pos_embed.proj.bias"],
        "context_embedder.weight": sd["context_embedder.weight"],
        "context_embedder.bias": sd["context_embedder.bias"],
        "final_layer.linear.weight": sd["proj_out.weight"],
        "final_layer.linear.bias": sd["proj_out.bias"],
        # the swap is its own inverse
        "final_layer.adaLN_modulation.1.weight": swap_scale_shift(sd["norm_out.linear.weight"],
                                                                  dim),
        "final_layer.adaLN_modulation.1.bias": swap_scale_shift(sd["norm_out.linear.bias"], dim),
    }
    for ours, theirs in (("t_embedder", "time_text_embed.timestep_embedder"),
                         ("y_embedder", "time_text_embed.text_embedder")):
        for a, b in (("mlp.0", "linear_1"), ("mlp.2", "linear_2")):
            for p in ("weight", "bias"):
                out[f"{ours}.{a}.{p}"] = sd[f"{theirs}.{b}.{p}"]
    for i in range(n):
        src, dst = f"transformer_blocks.{i}.", f"joint_blocks.{i}."
        last = i == n - 1
        for p in ("weight", "bias"):
            out[dst + f"x_block.attn.qkv.{p}"] = torch.cat(
                [sd[src + f"attn.to_{x}.{p}"] for x in "qkv"])
            out[dst + f"context_block.attn.qkv.{p}"] = torch.cat(
                [sd[src + f"attn.add_{x}_proj.{p}"] for x in "qkv"])
            out[dst + f"x_block.attn.proj.{p}"] = sd[src + f"attn.to_out.0.{p}"]
            out[dst + f"x_block.adaLN_modulation.1.{p}"] = sd[src + f"norm1.linear.{p}"]
            ctx = sd[src + f"norm1_context.linear.{p}"]
            out[dst + f"context_block.adaLN_modulation.1.{p}"] = (
                swap_scale_shift(ctx, dim) if last else ctx)
            out[dst + f"x_block.mlp.fc1.{p}"] = sd[src + f"ff.net.0.proj.{p}"]
            out[dst + f"x_block.mlp.fc2.{p}"] = sd[src + f"ff.net.2.{p}"]
            if not last:
                out[dst + f"context_block.attn.proj.{p}"] = sd[src + f"attn.to_add_out.{p}"]
                out[dst + f"context_block.mlp.fc1.{p}"] = sd[src + f"ff_context.net.0.proj.{p}"]
                out[dst + f"context_block.mlp.fc2.{p}"] = sd[src + f"ff_context.net.2.{p}"]
            if src + "attn2.to_q.weight" in sd:
                out[dst + f"x_block.attn2.qkv.{p}"] = torch.cat(
                    [sd[src + f"attn2.to_{x}.{p}"] for x in "qkv"])
                out[dst + f"x_block.attn2.proj.{p}"] = sd[src + f"attn2.to_out.0.{p}"]
        for ours, theirs in (("x_block.attn.ln_q", "attn.norm_q"),
                             ("x_block.attn.ln_k", "attn.norm_k"),
                             ("context_block.attn.ln_q", "attn.norm_added_q"),
                             ("context_block.attn.ln_k", "attn.norm_added_k"),
                             ("x_block.attn2.ln_q", "attn2.norm_q"),
                             ("x_block.attn2.ln_k", "attn2.norm_k")):
            if src + theirs + ".weight" in sd:
                out[dst + ours + ".weight"] = sd[src + theirs + ".weight"]
    return out


def sd3_original_state_dict(pipe) -> dict:
    """The pipeline as one all-in-one SD3 file: the MMDiT, the VAE and each
    text encoder present under the names Stability AI's files use."""
    from tiny_pipelines import _vae_key

    out = {"model.diffusion_model." + k: v
           for k, v in _sd3_transformer_original(pipe.transformer).items()}
    n_vae = len(pipe.vae.config.block_out_channels)
    for k, v in pipe.vae.state_dict().items():
        name, value = _vae_key(k, v, n_vae)
        out["first_stage_model." + name] = value
    for attr, prefix in (("text_encoder", "text_encoders.clip_l.transformer."),
                         ("text_encoder_2", "text_encoders.clip_g.transformer.")):
        for k, v in getattr(pipe, attr).state_dict().items():
            # the text_model. level transformers 5 drops from CLIPTextModel but real files keep
            key = k if k.startswith(("text_model.", "text_projection")) else "text_model." + k
            out[prefix + key] = v
    if pipe.text_encoder_3 is not None:
        for k, v in pipe.text_encoder_3.state_dict().items():
            out["text_encoders.t5xxl.transformer." + k] = v
    # clones: T5 ties its embedding to encoder.embed_tokens, which safetensors refuses to share
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def save_tiny_sd3_models(root: Path) -> dict[str, dict[str, Path]]:
    """Each SD3 kind as a diffusers folder and as an all-in-one single file
    with a config folder of the same stem beside it; plus "sd35-medium-no-t5"
    (no T5 at all, in both layouts). {kind: {"diffusers": dir, "single": file}}."""

    root = Path(root)
    clip_tok = write_tiny_tokenizer(root / "clip-tokenizer")
    t5_tok = write_tiny_t5_tokenizer(root / "t5-tokenizer")
    made: dict[str, dict[str, Path]] = {}
    for name, kind, t5 in (("sd35-medium", "sd35-medium", t5_tok),
                           ("sd35-large", "sd35-large", t5_tok),
                           ("sd35-medium-no-t5", "sd35-medium", None)):
        pipe = build_tiny_sd3(kind, clip_tok, t5)
        made[name] = save_both_layouts(pipe, root, name, sd3_original_state_dict(pipe))
    return made


# ---- Z-Image -----------------------------------------------------------------------------

QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def write_tiny_qwen_tokenizer(folder: Path) -> Path:
    """A byte-level BPE tokenizer with Qwen's special tokens and a chat
    template (Z-Image wraps every prompt in one), in transformers' Qwen2 class."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import Qwen2TokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {c: i for i, c in enumerate(sorted(alphabet))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tok = Qwen2TokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>",
                             pad_token="<|endoftext|>", unk_token=None,
                             chat_template=QWEN_CHAT_TEMPLATE)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    folder = Path(folder)
    tok.save_pretrained(str(folder))
    return folder


def build_tiny_z_image(qwen_tokenizer: Path, seed: int = 0):
    """A random ZImagePipeline (the sizes of diffusers' own Z-Image tests)."""
    offline_and_quiet()
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, ZImagePipeline, ZImageTransformer2DModel
    from transformers import Qwen2TokenizerFast, Qwen3Config, Qwen3Model

    torch.manual_seed(seed)
    transformer = ZImageTransformer2DModel(
        all_patch_size=(2,), all_f_patch_size=(1,), in_channels=16, dim=32, n_layers=2,
        n_refiner_layers=1, n_heads=2, n_kv_heads=2, norm_eps=1e-5, qk_norm=True,
        cap_feat_dim=16, rope_theta=256.0, t_scale=1000.0, axes_dims=[8, 4, 4],
        axes_lens=[256, 32, 32])
    # x_pad_token and cap_pad_token start at zero; random values make them count
    with torch.no_grad():
        transformer.x_pad_token.normal_()
        transformer.cap_pad_token.normal_()
    torch.manual_seed(seed + 1)
    vae = tiny_flow_vae(0.3611, 0.1159)  # FLUX.1's VAE, which Z-Image uses
    torch.manual_seed(seed + 2)
    text_encoder = Qwen3Model(Qwen3Config(
        vocab_size=300, hidden_size=16, intermediate_size=16, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, head_dim=8, max_position_embeddings=512,
        rope_theta=1000000.0)).eval()
    tokenizer = Qwen2TokenizerFast.from_pretrained(str(qwen_tokenizer))
    return ZImagePipeline(scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), vae=vae,
                          text_encoder=text_encoder, tokenizer=tokenizer,
                          transformer=transformer)


def z_image_original_state_dict(pipe) -> dict:
    """The pipeline as one all-in-one Z-Image file in ComfyUI's checkpoint layout:
    the transformer in the original key names (fused q/k/v) under
    `model.diffusion_model.`, the VAE under `first_stage_model.`, Qwen3 under
    `text_encoders.qwen3_4b.transformer.model.`."""
    import torch
    from tiny_pipelines import _vae_key

    sd = pipe.transformer.state_dict()
    out = {}
    renames = (("all_final_layer.2-1.", "final_layer."), ("all_x_embedder.2-1.", "x_embedder."),
               (".attention.to_out.0.", ".attention.out."),
               (".attention.norm_k.", ".attention.k_norm."),
               (".attention.norm_q.", ".attention.q_norm."))
    for key, value in sd.items():
        if ".attention.to_k." in key or ".attention.to_v." in key:
            continue
        if ".attention.to_q." in key:
            fused = torch.cat([sd[key.replace("to_q", f"to_{x}")] for x in "qkv"])
            out["model.diffusion_model." + key.replace(".to_q.", ".qkv.")] = fused
            continue
        for new, old in renames:
            key = key.replace(new, old)
        out["model.diffusion_model." + key] = value
    n_vae = len(pipe.vae.config.block_out_channels)
    for k, v in pipe.vae.state_dict().items():
        name, value = _vae_key(k, v, n_vae)
        out["first_stage_model." + name] = value
    for k, v in pipe.text_encoder.state_dict().items():
        out["text_encoders.qwen3_4b.transformer.model." + k] = v
    return {k: v.detach().clone().contiguous() for k, v in out.items()}


def save_tiny_z_image(root: Path) -> dict[str, Path]:
    """A tiny Z-Image as a diffusers folder and as an all-in-one single file
    with its config folder beside it: {"diffusers": dir, "single": file}."""

    root = Path(root)
    pipe = build_tiny_z_image(write_tiny_qwen_tokenizer(root / "qwen-tokenizer"))
    return save_both_layouts(pipe, root, "z-image", z_image_original_state_dict(pipe))


# ---- FLUX.2 Klein -------------------------------------------------------------------------

KLEIN_TEXT_WIDTH = 16


def build_tiny_flux2_klein(qwen_tokenizer: Path, seed: int = 0, distilled: bool = True):
    """A random Flux2KleinPipeline: a 1+1-block transformer on 2x2-patched
    latents of an 8-channel VAE, Qwen3 with the 28 layers whose 10th, 19th and
    28th hidden states Klein reads (each only 16 wide)."""
    offline_and_quiet()
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen2TokenizerFast, Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=32, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=3 * KLEIN_TEXT_WIDTH,
        timestep_guidance_channels=256, axes_dims_rope=[4, 4, 4, 4], guidance_embeds=False)
    torch.manual_seed(seed + 1)
    vae = AutoencoderKLFlux2(
        sample_size=64, in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 16, 16, 16), layers_per_block=1, latent_channels=8,
        norm_num_groups=8, use_quant_conv=False, use_post_quant_conv=False)
    with torch.no_grad():  # a trained VAE's latent statistics, not the identity
        vae.bn.running_mean.uniform_(-0.5, 0.5)
        vae.bn.running_var.uniform_(0.5, 2.0)
    torch.manual_seed(seed + 2)
    text_encoder = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=300, hidden_size=KLEIN_TEXT_WIDTH, intermediate_size=16,
        num_hidden_layers=28, num_attention_heads=2, num_key_value_heads=2, head_dim=8,
        max_position_embeddings=1024, rope_theta=1000000.0)).eval()
    tokenizer = Qwen2TokenizerFast.from_pretrained(str(qwen_tokenizer))
    return Flux2KleinPipeline(scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), vae=vae,
                              text_encoder=text_encoder, tokenizer=tokenizer,
                              transformer=transformer, is_distilled=distilled)


def save_tiny_flux2_klein(root: Path) -> dict[str, Path]:
    """A tiny FLUX.2 Klein as a diffusers folder: {"diffusers": dir}."""
    root = Path(root)
    pipe = build_tiny_flux2_klein(write_tiny_qwen_tokenizer(root / "qwen-tokenizer"))
    folder = root / "diffusers-flux2-klein"
    pipe.save_pretrained(str(folder), safe_serialization=True)
    return {"diffusers": folder}
