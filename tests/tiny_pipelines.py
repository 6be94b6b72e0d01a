"""Tiny RANDOMLY INITIALISED Stable Diffusion pipelines, for the tests only
(the self-test's SD1 lives in artstudio.selftest.random_models.py).

Nothing here is a real model: the weights are random, the images are noise.
They have the *shapes* of the real families (SD1, SD1 inpainting with a
9-channel UNet, SD2 with v-prediction, SDXL with two text encoders and
`text_time` conditioning), so every loading and generation path can run on a
CPU in a fraction of a second, the way diffusers' own tests do it.

`to_original_state_dict` converts a diffusers pipeline back into the original
single-file key layout (`model.diffusion_model.*`, `first_stage_model.*`,
`cond_stage_model.*`, `conditioner.embedders.*`) so the single-file loader can
be tested without any real checkpoint. It covers the block layouts built here
(and real SD ones), not every diffusers model.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from artstudio.model_files.offline import offline_and_quiet
from artstudio.selftest.random_models import (
    FLUX_VARIANTS,
    build_random_flux,
    text_config,
    tiny_scheduler,
    tiny_vae,
    unet_kwargs,
    write_tiny_t5_tokenizer,
    write_tiny_tokenizer,
)

TINY_KINDS = ("sd1", "sd1-inpaint", "sd2-v", "sdxl-base")


def build_tiny_pipeline(kind: str, tokenizer_dir: Path, seed: int = 0):
    """A random pipeline of `kind` (one of TINY_KINDS) on the CPU in float32."""
    offline_and_quiet()
    import torch
    from diffusers import (
        StableDiffusionInpaintPipeline,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    if kind not in TINY_KINDS:
        raise ValueError(f"unknown tiny kind {kind!r}")
    xl = kind.startswith("sdxl")
    torch.manual_seed(seed)
    unet_args: dict[str, Any] = unet_kwargs(
        in_channels=9 if kind.endswith("inpaint") else 4,
        cross_attention_dim=32 + 40 if xl else 32,  # SDXL: both encoders' widths
    )
    if kind == "sd2-v" or xl:
        unet_args.update(attention_head_dim=(2, 4), use_linear_projection=True)
    if xl:
        # time ids (6 values x 8) plus the pooled 32-d text embedding
        unet_args.update(addition_embed_type="text_time", addition_time_embed_dim=8,
                         projection_class_embeddings_input_dim=6 * 8 + 32)
    unet = UNet2DConditionModel(**unet_args)
    torch.manual_seed(seed + 1)
    vae = tiny_vae(scaling_factor=0.13025 if xl else 0.18215)
    scheduler = tiny_scheduler("v_prediction" if kind == "sd2-v" else "epsilon")
    torch.manual_seed(seed + 2)
    pad = "!" if (kind == "sd2-v" or xl) else "<|endoftext|>"
    tokenizer = CLIPTokenizer.from_pretrained(str(tokenizer_dir), pad_token=pad)
    if xl:
        text_encoder = CLIPTextModel(text_config("quick_gelu"))
        torch.manual_seed(seed + 3)
        # A different width from the first encoder, as in the real SDXL (768 and
        # 1280): diffusers tells the two apart in single files by that width.
        text_encoder_2 = CLIPTextModelWithProjection(text_config("gelu", hidden=40))
        return StableDiffusionXLPipeline(
            vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
            tokenizer=tokenizer, tokenizer_2=tokenizer, unet=unet, scheduler=scheduler,
            force_zeros_for_empty_prompt=True,
        )
    text_encoder = CLIPTextModel(text_config("gelu" if kind == "sd2-v" else "quick_gelu"))
    cls = StableDiffusionInpaintPipeline if kind.endswith("inpaint") else StableDiffusionPipeline
    return cls(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
               scheduler=scheduler, safety_checker=None, feature_extractor=None,
               requires_safety_checker=False)


# ---- diffusers -> original single-file keys ------------------------------------

_RESNET = (("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"),
           ("conv2", "out_layers.3"), ("time_emb_proj", "emb_layers.1"),
           ("conv_shortcut", "skip_connection"))
_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
    "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
    "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2",
}


def _resnet_rest(rest: str) -> str:
    for new, old in _RESNET:
        if rest.startswith(new + "."):
            return old + rest[len(new):]
    return rest


def _unet_key(key: str, config: dict) -> str:
    layers = config["layers_per_block"]
    parts = key.split(".")
    for new, old in _UNET_TOP.items():
        if key.startswith(new + "."):
            return old + key[len(new):]
    if parts[0] == "down_blocks":
        block, what = int(parts[1]), parts[2]
        base = 1 + block * (layers + 1)
        if what == "downsamplers":  # down_blocks.b.downsamplers.0.conv.weight
            return f"input_blocks.{base + layers}.0.op." + ".".join(parts[5:])
        j, rest = int(parts[3]), ".".join(parts[4:])
        if what == "resnets":
            return f"input_blocks.{base + j}.0.{_resnet_rest(rest)}"
        return f"input_blocks.{base + j}.1.{rest}"
    if parts[0] == "mid_block":
        j, rest = int(parts[2]), ".".join(parts[3:])
        if parts[1] == "resnets":
            return f"middle_block.{2 * j}.{_resnet_rest(rest)}"
        return f"middle_block.1.{rest}"
    if parts[0] == "up_blocks":
        block, what = int(parts[1]), parts[2]
        base = block * (layers + 1)
        if what == "upsamplers":  # after the attention when the block has one
            has_attn = "CrossAttn" in config["up_block_types"][block]
            return f"output_blocks.{base + layers}.{2 if has_attn else 1}.conv." + parts[-1]
        j, rest = int(parts[3]), ".".join(parts[4:])
        if what == "resnets":
            return f"output_blocks.{base + j}.0.{_resnet_rest(rest)}"
        return f"output_blocks.{base + j}.1.{rest}"
    raise KeyError(f"no original name for unet key {key}")


def _vae_key(key: str, value, n_blocks: int):
    parts = key.split(".")
    top = {"conv_norm_out": "norm_out"}
    if parts[0] in ("quant_conv", "post_quant_conv"):
        return key, value
    side = parts[0]  # encoder / decoder
    if parts[1] in ("conv_in", "conv_out", "conv_norm_out"):
        return f"{side}.{top.get(parts[1], parts[1])}.{parts[2]}", value
    if parts[1] in ("down_blocks", "up_blocks"):
        block = int(parts[2])
        orig = block if side == "encoder" else n_blocks - 1 - block
        name = "down" if side == "encoder" else "up"
        if parts[3] in ("downsamplers", "upsamplers"):
            sample = "downsample" if side == "encoder" else "upsample"
            return f"{side}.{name}.{orig}.{sample}.conv.{parts[-1]}", value
        rest = ".".join(parts[5:]).replace("conv_shortcut", "nin_shortcut")
        return f"{side}.{name}.{orig}.block.{parts[4]}.{rest}", value
    if parts[1] == "mid_block":
        if parts[2] == "resnets":
            rest = ".".join(parts[4:]).replace("conv_shortcut", "nin_shortcut")
            return f"{side}.mid.block_{int(parts[3]) + 1}.{rest}", value
        rest = ".".join(parts[4:])
        for new, old in (("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"),
                         ("to_out.0", "proj_out")):
            if rest.startswith(new + "."):
                rest = old + rest[len(new):]
        if rest.endswith("weight") and value.ndim == 2:  # 1x1 convs in the original
            value = value[:, :, None, None]
        return f"{side}.mid.attn_1.{rest}", value
    raise KeyError(f"no original name for vae key {key}")


def _openclip(state: dict, prefix: str, heads_dim: int) -> dict:
    """A transformers CLIP text model in OpenCLIP's layout (SD2, SDXL's bigG)."""
    import torch

    out = {}
    state = {k.removeprefix("text_model."): v for k, v in state.items()}
    n_layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.layers."))
    out[prefix + "token_embedding.weight"] = state["embeddings.token_embedding.weight"]
    out[prefix + "positional_embedding"] = state["embeddings.position_embedding.weight"]
    out[prefix + "ln_final.weight"] = state["final_layer_norm.weight"]
    out[prefix + "ln_final.bias"] = state["final_layer_norm.bias"]
    if "text_projection.weight" in state:
        out[prefix + "text_projection"] = state["text_projection.weight"].T.contiguous()
    else:  # SD2 checkpoints carry one, unused by diffusers
        out[prefix + "text_projection"] = torch.eye(heads_dim)
    for i in range(n_layers):
        src, dst = f"encoder.layers.{i}.", f"{prefix}transformer.resblocks.{i}."
        for kind in ("weight", "bias"):
            out[dst + f"attn.in_proj_{kind}"] = torch.cat(
                [state[src + f"self_attn.{p}_proj.{kind}"] for p in "qkv"])
            out[dst + f"attn.out_proj.{kind}"] = state[src + f"self_attn.out_proj.{kind}"]
            out[dst + f"ln_1.{kind}"] = state[src + f"layer_norm1.{kind}"]
            out[dst + f"ln_2.{kind}"] = state[src + f"layer_norm2.{kind}"]
            out[dst + f"mlp.c_fc.{kind}"] = state[src + f"mlp.fc1.{kind}"]
            out[dst + f"mlp.c_proj.{kind}"] = state[src + f"mlp.fc2.{kind}"]
    return out


def _clip_l(state: dict, prefix: str) -> dict:
    # transformers 5 saves CLIPTextModel without the "text_model." level that
    # real checkpoints (and diffusers' detection keys) have.
    return {prefix + "text_model." + k.removeprefix("text_model."): v for k, v in state.items()}


def to_original_state_dict(pipe) -> dict:
    """The pipeline's weights under original single-file key names."""
    out: dict = {}
    unet_cfg = dict(pipe.unet.config)
    for k, v in pipe.unet.state_dict().items():
        out["model.diffusion_model." + _unet_key(k, unet_cfg)] = v
    n_vae = len(pipe.vae.config.block_out_channels)
    for k, v in pipe.vae.state_dict().items():
        name, value = _vae_key(k, v, n_vae)
        out["first_stage_model." + name] = value
    te2 = getattr(pipe, "text_encoder_2", None)
    te = pipe.text_encoder
    if te2 is not None:
        if te is not None:
            out.update(_clip_l(te.state_dict(), "conditioner.embedders.0.transformer."))
            out.update(_openclip(te2.state_dict(), "conditioner.embedders.1.model.",
                                 te2.config.hidden_size))
        else:  # the refiner layout: bigG alone as embedder 0
            out.update(_openclip(te2.state_dict(), "conditioner.embedders.0.model.",
                                 te2.config.hidden_size))
    elif te.config.hidden_act == "gelu":  # OpenCLIP-trained (SD2)
        out.update(_openclip(te.state_dict(), "cond_stage_model.model.", te.config.hidden_size))
    else:
        out.update(_clip_l(te.state_dict(), "cond_stage_model.transformer."))
    return {k: v.detach().contiguous() for k, v in out.items()}


def save_both_layouts(pipe, root: Path, name: str, single_state: dict) -> dict[str, Path]:
    """`pipe` as the diffusers folder root/diffusers-NAME and `single_state` as
    the single file root/single/tiny-NAME.safetensors, with a config folder of
    the same stem beside it (how a user overrides detection, and how the
    offline single-file loader finds configs for shapes no shipped config has)."""
    from safetensors.torch import save_file

    folder = root / f"diffusers-{name}"
    pipe.save_pretrained(str(folder), safe_serialization=True)
    single = root / "single" / f"tiny-{name}.safetensors"
    single.parent.mkdir(parents=True, exist_ok=True)
    save_file(single_state, str(single))
    shutil.copytree(folder, single.with_suffix(""), ignore=shutil.ignore_patterns(
        "*.safetensors", "*.bin", "*.ckpt"))
    return {"diffusers": folder, "single": single}


def save_tiny_models(root: Path, kinds: tuple[str, ...] = TINY_KINDS) -> dict[str, dict[str, Path]]:
    """Build and save each kind as a diffusers folder and as a single .safetensors
    file with a config folder of the same stem beside it (how a user overrides
    detection, and how the offline single-file loader finds configs for shapes
    no shipped config has). Returns {kind: {"diffusers": dir, "single": file}}."""
    root = Path(root)
    tok_dir = write_tiny_tokenizer(root / "tokenizer")
    made: dict[str, dict[str, Path]] = {}
    for kind in kinds:
        pipe = build_tiny_pipeline(kind, tok_dir)
        made[kind] = save_both_layouts(pipe, root, kind, to_original_state_dict(pipe))
    return made


def save_tiny_x4_upscaler(folder: Path, seed: int = 0) -> Path:
    """A random pipeline in the shape of Stable Diffusion's x4 upscaler (a
    7-channel UNet with noise-level class labels, a VAE that scales by 4),
    saved as a diffusers folder, as diffusers' own tests build it."""
    offline_and_quiet()
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    tok_dir = write_tiny_tokenizer(folder.with_name(folder.name + "-tokenizer"))
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 32, 64), layers_per_block=1, sample_size=32, in_channels=7,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D",
                                          "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, use_linear_projection=True,
        only_cross_attention=(True, True, False), num_class_embeds=100)
    torch.manual_seed(seed + 1)
    vae = AutoencoderKL(
        block_out_channels=[32, 32, 64], in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3,
        scaling_factor=0.08333)
    torch.manual_seed(seed + 2)
    pipe = StableDiffusionUpscalePipeline(
        vae=vae, text_encoder=CLIPTextModel(text_config("gelu")),
        tokenizer=CLIPTokenizer.from_pretrained(str(tok_dir)), unet=unet,
        low_res_scheduler=DDPMScheduler(), scheduler=DDIMScheduler(prediction_type="v_prediction"),
        max_noise_level=99)
    pipe.save_pretrained(str(folder), safe_serialization=True)
    shutil.rmtree(tok_dir, ignore_errors=True)
    return folder


# ---- FLUX.1 ------------------------------------------------------------------

def flux_transformer_to_bfl(state: dict) -> dict:
    """A diffusers FLUX transformer's tensors in Black Forest Labs' layout (as
    real flux1-*.safetensors files hold them): the inverse of
    families.flux.transformer_to_diffusers."""
    import torch

    from artstudio.diffusion.families import flux

    out: dict = {}
    blocks: dict[str, dict[str, Any]] = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] in ("transformer_blocks", "single_transformer_blocks"):
            double = parts[0] == "transformer_blocks"
            prefix = f"{'double_blocks' if double else 'single_blocks'}.{parts[1]}."
            rest = ".".join(parts[2:])
            blocks.setdefault(prefix, {})[rest] = value
            continue
        if key.startswith(flux._FINAL_MOD[1] + "."):
            scale, shift = value.chunk(2, dim=0)
            out[flux._FINAL_MOD[0] + key[len(flux._FINAL_MOD[1]):]] = torch.cat([shift, scale])
            continue
        out[flux._rename(key, {v: k for k, v in flux._TOP.items()})] = value
    for prefix, rest in blocks.items():
        double = prefix.startswith("double")
        fused = flux._DOUBLE_QKV if double else {"linear1": flux._SINGLE_LINEAR1}
        for name, pieces in fused.items():
            for kind in ("weight", "bias"):
                out[f"{prefix}{name}.{kind}"] = torch.cat(
                    [rest.pop(f"{p}.{kind}") for p in pieces])
        table = {v: k for k, v in (flux._DOUBLE if double else flux._SINGLE).items()}
        for sub, value in rest.items():
            out[prefix + flux._rename(sub, table)] = value
    return out


def flux_single_file_state(pipe) -> dict:
    """An all-in-one FLUX.1 file's tensors, in ComfyUI's checkpoint layout."""
    out = {"model.diffusion_model." + k: v
           for k, v in flux_transformer_to_bfl(pipe.transformer.state_dict()).items()}
    n_vae = len(pipe.vae.config.block_out_channels)
    for k, v in pipe.vae.state_dict().items():
        name, value = _vae_key(k, v, n_vae)
        out["vae." + name] = value
    out.update(_clip_l(pipe.text_encoder.state_dict(), "text_encoders.clip_l.transformer."))
    out.update({"text_encoders.t5xxl.transformer." + k: v
                for k, v in pipe.text_encoder_2.state_dict().items()
                if k != "encoder.embed_tokens.weight"})  # tied to shared.weight
    return {k: v.detach().contiguous() for k, v in out.items()}


def save_tiny_flux(root: Path, variants: tuple[str, ...] = FLUX_VARIANTS
                   ) -> dict[str, dict[str, Path]]:
    """Each FLUX variant as a diffusers folder and as an all-in-one single
    file with its config folder (same stem) beside it."""
    root = Path(root)
    tok_dir = write_tiny_tokenizer(root / "tokenizer")
    t5_dir = write_tiny_t5_tokenizer(root / "t5-tokenizer")
    made: dict[str, dict[str, Path]] = {}
    for variant in variants:
        pipe = build_random_flux(variant, tok_dir, t5_dir)
        made[variant] = save_both_layouts(pipe, root, variant, flux_single_file_state(pipe))
    return made
