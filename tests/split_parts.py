"""Tiny split model parts in the key layouts real files have (Black Forest
Labs' and ComfyUI's original layouts, names as comfy/model_detection.py and
diffusers' single_file_utils.py read them), with small shapes. Only names and
shapes matter to recognition, so each file holds the tensors that identify it
and the ones whose widths join parts together, not a whole network."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

HIDDEN = 32


def write(path: Path, shapes: dict[str, tuple[int, ...]], dtype=torch.float16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: torch.zeros(s, dtype=torch.float32).to(dtype) for k, s in shapes.items()},
              str(path))
    return path


def flux1(guidance=True, image_in=64, text=32, pooled=24, prefix="") -> dict:
    h = HIDDEN
    s = {
        "img_in.weight": (h, image_in), "img_in.bias": (h,),
        "txt_in.weight": (h, text), "vector_in.in_layer.weight": (h, pooled),
        "time_in.in_layer.weight": (h, 256),
        "double_blocks.0.img_attn.qkv.weight": (3 * h, h),
        "double_blocks.0.img_attn.norm.key_norm.scale": (16,),
        "double_blocks.0.img_attn.norm.query_norm.scale": (16,),
        "double_blocks.0.txt_attn.qkv.weight": (3 * h, h),
        "single_blocks.0.linear1.weight": (7 * h, h),
        "final_layer.linear.weight": (64, h),
        "final_layer.adaLN_modulation.1.weight": (2 * h, h),
    }
    if guidance:
        s["guidance_in.in_layer.weight"] = (h, 256)
        s["guidance_in.in_layer.bias"] = (h,)
    return {prefix + k: v for k, v in s.items()}


def flux2(guidance=False, qwen=16) -> dict:
    h = HIDDEN
    s = {
        "img_in.weight": (h, 128), "txt_in.weight": (h, 3 * qwen),
        "double_stream_modulation_img.lin.weight": (6 * h, h),
        "single_stream_modulation.lin.weight": (3 * h, h),
        "double_blocks.0.img_attn.norm.key_norm.scale": (16,),
        "single_blocks.0.linear1.weight": (7 * h, h),
        "final_layer.linear.weight": (128, h),
    }
    if guidance:
        s["guidance_in.in_layer.weight"] = (h, 256)
    return s


def sd3(depth=2, attn2=False, text=32, prefix="model.diffusion_model.", vae_inside=False) -> dict:
    h = HIDDEN
    s = {"x_embedder.proj.weight": (h, 16, 2, 2), "context_embedder.weight": (h, text),
         "y_embedder.mlp.0.weight": (h, 64), "pos_embed": (1, 64, h),
         "final_layer.linear.weight": (64, h)}
    for i in range(depth):
        s[f"joint_blocks.{i}.context_block.adaLN_modulation.1.bias"] = (6 * h,)
        s[f"joint_blocks.{i}.x_block.attn.qkv.weight"] = (3 * h, h)
        if attn2 and i == 0:
            s[f"joint_blocks.{i}.x_block.attn2.qkv.weight"] = (3 * h, h)
    s = {prefix + k: v for k, v in s.items()}
    if vae_inside:
        s.update({"first_stage_model." + k: v for k, v in vae(16).items()})
    return s


def z_image(qwen=16) -> dict:
    h = HIDDEN
    return {
        "x_embedder.weight": (h, 64), "cap_embedder.0.weight": (qwen,),
        "cap_embedder.1.weight": (h, qwen), "t_embedder.mlp.0.weight": (h, 256),
        "noise_refiner.0.attention.qkv.weight": (3 * h, h),
        "context_refiner.0.attention.qkv.weight": (3 * h, h),
        "layers.0.adaLN_modulation.0.weight": (4 * h, h),
        "layers.0.attention.qkv.weight": (3 * h, h),
        "final_layer.linear.weight": (64, h),
    }


def clip(layers=2, width=24, prefix="text_model.", projection=False) -> dict:
    s = {"embeddings.token_embedding.weight": (100, width),
         "embeddings.position_embedding.weight": (77, width),
         "final_layer_norm.weight": (width,)}
    for i in range(layers):
        s[f"encoder.layers.{i}.mlp.fc1.weight"] = (37, width)
        s[f"encoder.layers.{i}.self_attn.q_proj.weight"] = (width, width)
    s = {prefix + k: v for k, v in s.items()}
    if projection:
        s["text_projection.weight"] = (width, width)
    return s


def clip_g(width=24) -> dict:
    return clip(layers=32, width=width, projection=True)


def t5(width=32, blocks=2) -> dict:
    s = {"shared.weight": (100, width), "encoder.final_layer_norm.weight": (width,)}
    for i in range(blocks):
        s[f"encoder.block.{i}.layer.0.SelfAttention.q.weight"] = (width, width)
        s[f"encoder.block.{i}.layer.1.DenseReluDense.wi_0.weight"] = (48, width)
        s[f"encoder.block.{i}.layer.1.DenseReluDense.wi_1.weight"] = (48, width)
        s[f"encoder.block.{i}.layer.1.DenseReluDense.wo.weight"] = (width, 48)
    return s


def qwen3(width=16, prefix="model.") -> dict:
    return {prefix + k: v for k, v in {
        "embed_tokens.weight": (100, width), "norm.weight": (width,),
        "layers.0.self_attn.q_proj.weight": (width, width),
        "layers.0.self_attn.q_norm.weight": (8,), "layers.0.self_attn.k_norm.weight": (8,),
        "layers.0.post_attention_layernorm.weight": (width,),
        "layers.0.input_layernorm.weight": (width,),
    }.items()}


def qwen25(width=16) -> dict:
    return {"model.embed_tokens.weight": (100, width),
            "model.layers.0.self_attn.k_proj.bias": (8,),
            "model.layers.0.self_attn.k_proj.weight": (8, width),
            "model.layers.0.post_attention_layernorm.weight": (width,)}


def vae(channels=16) -> dict:
    s = {"encoder.conv_in.weight": (8, 3, 3, 3),
         "encoder.down.0.block.0.conv1.weight": (8, 8, 3, 3),
         "encoder.conv_out.weight": (2 * channels, 8, 3, 3),
         "decoder.conv_in.weight": (8, channels, 3, 3),
         "decoder.up.0.block.0.conv1.weight": (8, 8, 3, 3),
         "decoder.conv_out.weight": (3, 8, 3, 3)}
    if channels == 4:
        s["quant_conv.weight"] = (8, 8, 1, 1)
        s["post_quant_conv.weight"] = (4, 4, 1, 1)
    if channels == 32:
        s["bn.running_mean"] = (128,)
        s["bn.running_var"] = (128,)
    return s


def comfy_flux_install(root: Path, *, t5_names=("t5xxl_fp16",), vae_names=("ae",),
                       clip_folder="text_encoders", unet_folder="diffusion_models") -> Path:
    """A ComfyUI models folder holding a FLUX.1 dev split set; returns the transformer."""
    models = root / "models"
    transformer = write(models / unet_folder / "flux1-dev.safetensors", flux1())
    write(models / clip_folder / "clip_l.safetensors", clip())
    for name in t5_names:
        write(models / clip_folder / f"{name}.safetensors", t5(),
              dtype=torch.float8_e4m3fn if "fp8" in name else torch.float16)
    for name in vae_names:
        write(models / "vae" / f"{name}.safetensors", vae(16))
    return transformer


def write_gguf(path: Path, tensors: dict, quant: str = "Q8_0") -> Path:
    """A GGUF file as city96's converter writes them: 2-D weights whose rows fit
    the block size quantised as `quant`, the rest F32. `tensors` maps names to
    shapes (zeros) or to torch tensors. A `quant` the gguf package cannot
    quantise (IQ2_XXS ...) is written as zero bytes of that type's block size."""
    import gguf
    import numpy as np

    qtype = gguf.GGMLQuantizationType[quant]
    block, type_size = gguf.GGML_QUANT_SIZES[qtype]
    writer = gguf.GGUFWriter(str(path), arch="flux")
    for name, value in tensors.items():
        array = (np.zeros(value, dtype=np.float32) if isinstance(value, tuple)
                 else value.detach().float().numpy())
        if array.ndim == 2 and array.shape[-1] % block == 0 and quant not in ("F32", "F16"):
            try:
                data = gguf.quants.quantize(array, qtype)
            except NotImplementedError:
                data = np.zeros((array.shape[0], array.shape[1] // block * type_size), np.uint8)
            writer.add_tensor(name, data, raw_dtype=qtype)
        elif quant == "F16":
            writer.add_tensor(name, array.astype(np.float16),
                              raw_dtype=gguf.GGMLQuantizationType.F16)
        else:
            writer.add_tensor(name, array, raw_dtype=gguf.GGMLQuantizationType.F32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def save_split_set(pipe, config_folder: Path, root: Path, name: str = "tiny-flux",
                   gguf: bool = False) -> Path:
    """A FLUX.1 pipeline's weights as a ComfyUI split set under root/models, as
    artists' files come: a bf16 (or Q8_0 GGUF) transformer with the config folder
    `config_folder` (configs and tokenizers only) beside it, a CLIP-L with
    ComfyUI's `text_model.` prefix, an fp8 T5 and the `ae` VAE in its original
    layout. The transformer keeps diffusers' key names: diffusers' converter for
    Black Forest Labs' layout only handles full-size models. Returns the transformer."""
    import shutil

    from tiny_pipelines import _clip_l, _vae_key

    models = Path(root) / "models"
    folder = models / "diffusion_models"
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().clone() for k, v in pipe.transformer.state_dict().items()}
    if gguf:
        transformer = write_gguf(folder / f"{name}-Q8_0.gguf", state)
    else:
        transformer = folder / f"{name}.safetensors"
        save_file({k: v.to(torch.bfloat16).contiguous() for k, v in state.items()},
                  str(transformer))
    shutil.copytree(config_folder, transformer.with_suffix(""),
                    ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    (models / "text_encoders").mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous()
               for k, v in _clip_l(pipe.text_encoder.state_dict(), "").items()},
              str(models / "text_encoders/clip_l.safetensors"))
    save_file({k: v.detach().to(torch.float8_e4m3fn).contiguous()
               for k, v in pipe.text_encoder_2.state_dict().items()
               if k != "encoder.embed_tokens.weight"},  # tied to shared.weight
              str(models / "text_encoders/t5xxl_fp8_e4m3fn.safetensors"))
    n = len(pipe.vae.config.block_out_channels)
    (models / "vae").mkdir(parents=True, exist_ok=True)
    save_file({name: value.detach().contiguous() for name, value in
               (_vae_key(k, v, n) for k, v in pipe.vae.state_dict().items())},
              str(models / "vae/ae.safetensors"))
    return transformer
