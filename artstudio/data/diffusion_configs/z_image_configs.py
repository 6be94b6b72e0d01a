"""The config folder of Z-Image Turbo (make_configs.py writes it).

Values of the published diffusers repository (Tongyi-MAI/Z-Image-Turbo): the
transformer as diffusers' ZImageTransformer2DModel defines it, Qwen3-4B as
the text encoder, FLUX.1's VAE; shapes and defaults only, no weights. Qwen's
tokenizer files (vocab.json, merges.txt: 150k tokens) are not among them:
they cannot be obtained offline here, so a single file loads when they are
beside it or in the Hugging Face cache.
"""

from __future__ import annotations

from make_configs import VERSION

Z_IMAGE_TRANSFORMER = {
    "_class_name": "ZImageTransformer2DModel", "all_f_patch_size": [1], "all_patch_size": [2],
    "axes_dims": [32, 48, 48], "axes_lens": [1024, 512, 512], "cap_feat_dim": 2560,
    "dim": 3840, "in_channels": 16, "n_heads": 30, "n_kv_heads": 30, "n_layers": 30,
    "n_refiner_layers": 2, "norm_eps": 1e-05, "qk_norm": True, "rope_theta": 256.0,
    "t_scale": 1000.0,
}
QWEN3_4B = {
    "architectures": ["Qwen3Model"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
    "hidden_size": 2560, "initializer_range": 0.02, "intermediate_size": 9728,
    "max_position_embeddings": 40960, "max_window_layers": 36, "model_type": "qwen3",
    "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000, "sliding_window": None,
    "tie_word_embeddings": True, "use_cache": True, "use_sliding_window": False,
    "vocab_size": 151936,
}
FLUX_VAE = {
    "_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4, "force_upcast": True, "in_channels": 3,
    "latent_channels": 16, "latents_mean": None, "latents_std": None, "layers_per_block": 2,
    "mid_block_add_attention": True, "norm_num_groups": 32, "out_channels": 3,
    "sample_size": 1024, "scaling_factor": 0.3611, "shift_factor": 0.1159,
    "up_block_types": ["UpDecoderBlock2D"] * 4, "use_post_quant_conv": False,
    "use_quant_conv": False,
}
QWEN_TOKENIZER = {
    "tokenizer_class": "Qwen2Tokenizer", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
    "model_max_length": 131072, "padding_side": "right", "split_special_tokens": False,
}

Z_IMAGE_VARIANTS = {
    "z-image-turbo": {
        "model_index.json": {
            "_class_name": "ZImagePipeline", "_diffusers_version": VERSION,
            "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
            "text_encoder": ["transformers", "Qwen3Model"],
            "tokenizer": ["transformers", "Qwen2Tokenizer"],
            "transformer": ["diffusers", "ZImageTransformer2DModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
        "transformer/config.json": Z_IMAGE_TRANSFORMER, "vae/config.json": FLUX_VAE,
        "text_encoder/config.json": QWEN3_4B,
        "tokenizer/tokenizer_config.json": QWEN_TOKENIZER,
        "scheduler/scheduler_config.json": {
            "_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000,
            "shift": 3.0, "use_dynamic_shifting": False},
    },
}
