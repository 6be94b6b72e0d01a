"""Writes the config folders in this directory (run it after editing values).

Each folder is what diffusers' single-file loading needs instead of asking the
model hub: `model_index.json`, each component's `config.json`, the scheduler
config and the tokenizer settings, and NO weights. The values are those of the
published architectures (SD 1.x, SD 2.x, SDXL base/inpaint/refiner); they only
describe shapes and defaults, so a checkpoint of the family fits them.

One folder per variant of the family registry (artstudio/diffusion/families):
the registry names the variants and their native sizes, predictions and
pipeline classes; these folders hold the full component configs, and a test
checks that both agree.

The CLIP vocabulary is not written here: the loader takes it from a
`tokenizer/` folder beside the checkpoint, the user's Hugging Face cache, or
builds it from the BPE merges in artstudio/data/clip_bpe (artstudio/diffusion/clip_vocab.py).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
VERSION = "0.42.1"

SD1_UNET = {
    "_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": False,
    "cross_attention_dim": 768,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                         "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4,
    "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05,
    "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                       "CrossAttnUpBlock2D"],
}
SD2_UNET = {**SD1_UNET, "attention_head_dim": [5, 10, 20, 20], "cross_attention_dim": 1024,
            "use_linear_projection": True}
SDXL_UNET = {
    **SD1_UNET, "addition_embed_type": "text_time", "addition_embed_type_num_heads": 64,
    "addition_time_embed_dim": 256, "attention_head_dim": [5, 10, 20],
    "block_out_channels": [320, 640, 1280], "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "projection_class_embeddings_input_dim": 2816, "sample_size": 128,
    "transformer_layers_per_block": [1, 2, 10], "use_linear_projection": True,
}
SDXL_REFINER_UNET = {
    **SDXL_UNET, "attention_head_dim": [6, 12, 24, 24],
    "block_out_channels": [384, 768, 1536, 1536], "cross_attention_dim": 1280,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                         "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "projection_class_embeddings_input_dim": 2560, "transformer_layers_per_block": 4,
}
VAE = {
    "_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4, "in_channels": 3, "latent_channels": 4,
    "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 512,
    "scaling_factor": 0.18215, "up_block_types": ["UpDecoderBlock2D"] * 4,
}
SDXL_VAE = {**VAE, "sample_size": 1024, "scaling_factor": 0.13025, "force_upcast": True}
CLIP_L = {  # OpenAI CLIP ViT-L/14 text tower (SD1, SDXL's first encoder)
    "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0,
    "dropout": 0.0, "eos_token_id": 2, "hidden_act": "quick_gelu", "hidden_size": 768,
    "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 3072,
    "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
    "projection_dim": 768, "vocab_size": 49408,
}
# OpenCLIP ViT-H/14 as SD2 uses it: 23 of its 24 layers (SD2 conditions on the
# penultimate layer, so the last one is dropped).
OPENCLIP_H = {**CLIP_L, "hidden_act": "gelu", "hidden_size": 1024, "intermediate_size": 4096,
              "num_attention_heads": 16, "num_hidden_layers": 23, "projection_dim": 512}
OPENCLIP_BIGG = {**CLIP_L, "architectures": ["CLIPTextModelWithProjection"], "hidden_act": "gelu",
                 "hidden_size": 1280, "intermediate_size": 5120, "num_attention_heads": 20,
                 "num_hidden_layers": 32, "projection_dim": 1280}


def scheduler(prediction_type: str = "epsilon") -> dict:
    # Euler with SD's training schedule; the UI swaps samplers via from_config.
    return {
        "_class_name": "EulerDiscreteScheduler", "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "beta_start": 0.00085, "interpolation_type": "linear",
        "num_train_timesteps": 1000, "prediction_type": prediction_type,
        "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": None,
        "use_karras_sigmas": False,
    }


def tokenizer(pad: str) -> dict:
    return {
        "tokenizer_class": "CLIPTokenizer", "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": pad,
        "model_max_length": 77, "do_lower_case": True, "add_prefix_space": False,
    }


def sd_variant(unet: dict, vae: dict, text: dict, pad: str, pred: str, pipeline: str) -> dict:
    return {
        "model_index.json": {
            "_class_name": pipeline, "_diffusers_version": VERSION,
            "feature_extractor": [None, None], "image_encoder": [None, None],
            "requires_safety_checker": False, "safety_checker": [None, None],
            "scheduler": ["diffusers", "EulerDiscreteScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
        },
        "unet/config.json": unet, "vae/config.json": vae, "text_encoder/config.json": text,
        "tokenizer/tokenizer_config.json": tokenizer(pad),
        "scheduler/scheduler_config.json": scheduler(pred),
    }


def sdxl_variant(unet: dict, pipeline: str, refiner: bool = False) -> dict:
    files = {
        "model_index.json": {
            "_class_name": pipeline, "_diffusers_version": VERSION,
            "feature_extractor": [None, None], "image_encoder": [None, None],
            "force_zeros_for_empty_prompt": not refiner,
            "scheduler": ["diffusers", "EulerDiscreteScheduler"],
            "text_encoder": [None, None] if refiner else ["transformers", "CLIPTextModel"],
            "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
            "tokenizer": [None, None] if refiner else ["transformers", "CLIPTokenizer"],
            "tokenizer_2": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
        },
        "unet/config.json": unet, "vae/config.json": SDXL_VAE,
        "text_encoder_2/config.json": OPENCLIP_BIGG,
        "tokenizer_2/tokenizer_config.json": tokenizer("!"),
        "scheduler/scheduler_config.json": scheduler(),
    }
    if refiner:
        files["model_index.json"]["requires_aesthetics_score"] = True
    else:
        files["text_encoder/config.json"] = CLIP_L
        files["tokenizer/tokenizer_config.json"] = tokenizer("<|endoftext|>")
    return files


VARIANTS = {
    "sd1": sd_variant(SD1_UNET, VAE, CLIP_L, "<|endoftext|>", "epsilon",
                      "StableDiffusionPipeline"),
    "sd1-inpaint": sd_variant({**SD1_UNET, "in_channels": 9}, VAE, CLIP_L, "<|endoftext|>",
                              "epsilon", "StableDiffusionInpaintPipeline"),
    "sd2": sd_variant(SD2_UNET, VAE, OPENCLIP_H, "!", "epsilon", "StableDiffusionPipeline"),
    "sd2-v": sd_variant({**SD2_UNET, "sample_size": 96, "upcast_attention": True},
                        {**VAE, "sample_size": 768}, OPENCLIP_H, "!", "v_prediction",
                        "StableDiffusionPipeline"),
    "sd2-inpaint": sd_variant({**SD2_UNET, "in_channels": 9}, VAE, OPENCLIP_H, "!", "epsilon",
                              "StableDiffusionInpaintPipeline"),
    "sdxl-base": sdxl_variant(SDXL_UNET, "StableDiffusionXLPipeline"),
    "sdxl-inpaint": sdxl_variant({**SDXL_UNET, "in_channels": 9},
                                 "StableDiffusionXLInpaintPipeline"),
    "sdxl-refiner": sdxl_variant(SDXL_REFINER_UNET, "StableDiffusionXLImg2ImgPipeline",
                                 refiner=True),
}


# ---- FLUX.1 (black-forest-labs/FLUX.1-* as diffusers 0.42 describes them) ------

FLUX_TRANSFORMER = {
    "_class_name": "FluxTransformer2DModel", "attention_head_dim": 128,
    "axes_dims_rope": [16, 56, 56], "guidance_embeds": True, "in_channels": 64,
    "joint_attention_dim": 4096, "num_attention_heads": 24, "num_layers": 19,
    "num_single_layers": 38, "out_channels": None, "patch_size": 1,
    "pooled_projection_dim": 768,
}
FLUX_VAE = {
    **VAE, "force_upcast": True, "latent_channels": 16, "mid_block_add_attention": True,
    "sample_size": 1024, "scaling_factor": 0.3611, "shift_factor": 0.1159,
    "use_post_quant_conv": False, "use_quant_conv": False,
}
T5_XXL = {  # google/t5-v1_1-xxl's encoder, FLUX.1's second text encoder
    "architectures": ["T5EncoderModel"], "d_ff": 10240, "d_kv": 64, "d_model": 4096,
    "decoder_start_token_id": 0, "dense_act_fn": "gelu_new", "dropout_rate": 0.1,
    "eos_token_id": 1, "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0,
    "is_encoder_decoder": True, "is_gated_act": True, "layer_norm_epsilon": 1e-06,
    "model_type": "t5", "num_decoder_layers": 24, "num_heads": 64, "num_layers": 24,
    "pad_token_id": 0, "relative_attention_max_distance": 128,
    "relative_attention_num_buckets": 32, "tie_word_embeddings": False, "vocab_size": 32128,
}
T5_TOKENIZER = {  # settings only: the vocabulary (spiece.model) is not shipped, see README
    "tokenizer_class": "T5Tokenizer", "eos_token": "</s>", "pad_token": "<pad>",
    "unk_token": "<unk>", "extra_ids": 100, "model_max_length": 512,
}


def flow_scheduler(dynamic: bool) -> dict:
    # schnell is trained without the resolution-dependent shift
    return {"_class_name": "FlowMatchEulerDiscreteScheduler", "base_image_seq_len": 256,
            "base_shift": 0.5, "max_image_seq_len": 4096, "max_shift": 1.15,
            "num_train_timesteps": 1000, "shift": 3.0 if dynamic else 1.0,
            "use_dynamic_shifting": dynamic}


def flux_variant(pipeline: str, transformer: dict, dynamic: bool = True) -> dict:
    return {
        "model_index.json": {
            "_class_name": pipeline, "_diffusers_version": VERSION,
            "feature_extractor": [None, None], "image_encoder": [None, None],
            "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "text_encoder_2": ["transformers", "T5EncoderModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "tokenizer_2": ["transformers", "T5TokenizerFast"],
            "transformer": ["diffusers", "FluxTransformer2DModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
        "transformer/config.json": transformer, "vae/config.json": FLUX_VAE,
        "text_encoder/config.json": CLIP_L, "text_encoder_2/config.json": T5_XXL,
        "tokenizer/tokenizer_config.json": tokenizer("<|endoftext|>"),
        "tokenizer_2/tokenizer_config.json": T5_TOKENIZER,
        "scheduler/scheduler_config.json": flow_scheduler(dynamic),
    }


VARIANTS.update({
    "flux-dev": flux_variant("FluxPipeline", FLUX_TRANSFORMER),
    "flux-schnell": flux_variant("FluxPipeline", {**FLUX_TRANSFORMER, "guidance_embeds": False},
                                 dynamic=False),
    "flux-fill": flux_variant("FluxFillPipeline", {**FLUX_TRANSFORMER, "in_channels": 384,
                                                   "out_channels": 64}),
    "flux-kontext": flux_variant("FluxKontextPipeline", FLUX_TRANSFORMER),
})


def main() -> None:
    from artstudio.diffusion.families import variant_names

    if set(VARIANTS) != set(variant_names()):
        raise SystemExit(f"the registry's variants {sorted(variant_names())} differ from "
                         f"these configs {sorted(VARIANTS)}")
    for name, files in VARIANTS.items():
        for rel, content in files.items():
            path = HERE / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n",
                            encoding="utf-8")
    print(f"wrote {len(VARIANTS)} config folders under {HERE}")


if __name__ == "__main__":
    main()
