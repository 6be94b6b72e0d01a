"""The config folders of Stable Diffusion 3 and 3.5 (make_configs.py writes them).

Values from the published diffusers repositories of each model
(stabilityai/stable-diffusion-3.5-medium, -3.5-large, -3.5-large-turbo,
-3-medium-diffusers): shapes and defaults only, no weights. The T5 tokenizer
vocabulary (spiece.model) is not among them: it cannot be rebuilt from
anything shipped here, so a single file's T5 loads only when its tokenizer is
beside the file or in the Hugging Face cache, and the model otherwise runs on
its two CLIP encoders (diffusers allows text_encoder_3=None).
"""

from __future__ import annotations

from make_configs import CLIP_L, OPENCLIP_BIGG, VERSION, tokenizer

SD3_TRANSFORMER = {
    "_class_name": "SD3Transformer2DModel", "attention_head_dim": 64,
    "caption_projection_dim": 1536, "dual_attention_layers": [], "in_channels": 16,
    "joint_attention_dim": 4096, "num_attention_heads": 24, "num_layers": 24,
    "out_channels": 16, "patch_size": 2, "pooled_projection_dim": 2048,
    "pos_embed_max_size": 192, "qk_norm": None, "sample_size": 128,
}
SD35_MEDIUM = {**SD3_TRANSFORMER, "dual_attention_layers": list(range(13)),
               "pos_embed_max_size": 384, "qk_norm": "rms_norm"}
SD35_LARGE = {**SD3_TRANSFORMER, "caption_projection_dim": 2432, "num_attention_heads": 38,
              "num_layers": 38, "qk_norm": "rms_norm"}
SD3_VAE = {
    "_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4, "force_upcast": True, "in_channels": 3,
    "latent_channels": 16, "latents_mean": None, "latents_std": None, "layers_per_block": 2,
    "norm_num_groups": 32, "out_channels": 3, "sample_size": 1024, "scaling_factor": 1.5305,
    "shift_factor": 0.0609, "up_block_types": ["UpDecoderBlock2D"] * 4,
    "use_post_quant_conv": False, "use_quant_conv": False,
}
# SD3 reads CLIP-L's pooled output unprojected and CLIP-G's projected.
SD3_CLIP_L = {**CLIP_L, "architectures": ["CLIPTextModelWithProjection"]}
T5_XXL_ENCODER = {  # google/t5-v1_1-xxl, encoder only
    "architectures": ["T5EncoderModel"], "d_ff": 10240, "d_kv": 64, "d_model": 4096,
    "decoder_start_token_id": 0, "dense_act_fn": "gelu_new", "dropout_rate": 0.1,
    "eos_token_id": 1, "feed_forward_proj": "gated-gelu", "initializer_factor": 1.0,
    "is_encoder_decoder": True, "is_gated_act": True, "layer_norm_epsilon": 1e-06,
    "model_type": "t5", "num_decoder_layers": 24, "num_heads": 64, "num_layers": 24,
    "pad_token_id": 0, "relative_attention_max_distance": 128,
    "relative_attention_num_buckets": 32, "tie_word_embeddings": False, "vocab_size": 32128,
}
T5_TOKENIZER = {
    "tokenizer_class": "T5Tokenizer", "eos_token": "</s>", "pad_token": "<pad>",
    "unk_token": "<unk>", "extra_ids": 100, "model_max_length": 512,
}
FLOW_SCHEDULER = {"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000,
                  "shift": 3.0}


def sd3_variant(transformer: dict) -> dict:
    return {
        "model_index.json": {
            "_class_name": "StableDiffusion3Pipeline", "_diffusers_version": VERSION,
            "feature_extractor": [None, None], "image_encoder": [None, None],
            "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
            "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
            "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
            "text_encoder_3": ["transformers", "T5EncoderModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "tokenizer_2": ["transformers", "CLIPTokenizer"],
            "tokenizer_3": ["transformers", "T5TokenizerFast"],
            "transformer": ["diffusers", "SD3Transformer2DModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
        "transformer/config.json": transformer, "vae/config.json": SD3_VAE,
        "text_encoder/config.json": SD3_CLIP_L, "text_encoder_2/config.json": OPENCLIP_BIGG,
        "text_encoder_3/config.json": T5_XXL_ENCODER,
        "tokenizer/tokenizer_config.json": tokenizer("<|endoftext|>"),
        "tokenizer_2/tokenizer_config.json": tokenizer("!"),
        "tokenizer_3/tokenizer_config.json": T5_TOKENIZER,
        "scheduler/scheduler_config.json": FLOW_SCHEDULER,
    }


SD3_VARIANTS = {
    "sd35-medium": sd3_variant(SD35_MEDIUM),
    "sd35-large": sd3_variant(SD35_LARGE),
    "sd35-large-turbo": sd3_variant(SD35_LARGE),
    "sd3-medium": sd3_variant(SD3_TRANSFORMER),
}
