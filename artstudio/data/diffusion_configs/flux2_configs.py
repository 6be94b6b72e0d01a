"""The config folders of FLUX.2 Klein 4B, distilled and base (make_configs.py
writes them).

Values of the published diffusers repository (black-forest-labs/FLUX.2-klein-4B):
the transformer, Qwen3-4B as a causal LM (Klein reads its 10th, 19th and 28th
hidden states), the FLUX.2 VAE as diffusers' AutoencoderKLFlux2 defines it;
shapes only, no weights. Klein 9B has other widths: it loads from a diffusers
folder or with a config folder beside its file. Qwen's tokenizer files cannot
be obtained offline here and are not among them.
"""

from __future__ import annotations

from make_configs import VERSION
from z_image_configs import QWEN3_4B, QWEN_TOKENIZER

KLEIN_4B_TRANSFORMER = {
    "_class_name": "Flux2Transformer2DModel", "attention_head_dim": 128,
    "axes_dims_rope": [32, 32, 32, 32], "eps": 1e-06, "guidance_embeds": False,
    "in_channels": 128, "joint_attention_dim": 7680, "mlp_ratio": 3.0,
    "num_attention_heads": 24, "num_layers": 5, "num_single_layers": 20, "out_channels": None,
    "patch_size": 1, "rope_theta": 2000, "timestep_guidance_channels": 256,
}
FLUX2_VAE = {
    "_class_name": "AutoencoderKLFlux2", "act_fn": "silu", "batch_norm_eps": 0.0001,
    "batch_norm_momentum": 0.1, "block_out_channels": [128, 256, 512, 512],
    "decoder_block_out_channels": None, "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3, "latent_channels": 32, "layers_per_block": 2,
    "mid_block_add_attention": True, "norm_num_groups": 32, "out_channels": 3,
    "patch_size": [2, 2], "sample_size": 1024, "up_block_types": ["UpDecoderBlock2D"] * 4,
    "use_post_quant_conv": True, "use_quant_conv": True,
}


def klein_variant(distilled: bool) -> dict:
    return {
        "model_index.json": {
            "_class_name": "Flux2KleinPipeline", "_diffusers_version": VERSION,
            "is_distilled": distilled,
            "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
            "text_encoder": ["transformers", "Qwen3ForCausalLM"],
            "tokenizer": ["transformers", "Qwen2TokenizerFast"],
            "transformer": ["diffusers", "Flux2Transformer2DModel"],
            "vae": ["diffusers", "AutoencoderKLFlux2"],
        },
        "transformer/config.json": KLEIN_4B_TRANSFORMER, "vae/config.json": FLUX2_VAE,
        "text_encoder/config.json": {**QWEN3_4B, "architectures": ["Qwen3ForCausalLM"]},
        "tokenizer/tokenizer_config.json": QWEN_TOKENIZER,
        "scheduler/scheduler_config.json": {
            "_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000,
            "shift": 3.0, "use_dynamic_shifting": True, "base_shift": 0.5, "max_shift": 1.15,
            "base_image_seq_len": 256, "max_image_seq_len": 4096},
    }


FLUX2_VARIANTS = {"flux2-klein": klein_variant(True), "flux2-klein-base": klein_variant(False)}
