"""The configs of single-file ControlNets that diffusers has no single-file
loader for (SD3 / SD3.5, FLUX.1 and SDXL union ControlNets), read from their
tensors beside the loaded model's denoiser config, and Stability AI's SD3.5
ControlNet key layout turned into diffusers' names.

A folder carries its config.json and needs none of this; a single file (a
diffusers-format file renamed into ComfyUI's models/controlnet, or Stability's
sd3.5_large_controlnet_*.safetensors) carries only tensors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from artstudio.engine.errors import UserFacingError

Shapes = Mapping[str, tuple[int, ...]]


def _count(shapes: Shapes, prefix: str) -> int:
    found = {int(m.group(1)) for k in shapes if (m := re.match(rf"{re.escape(prefix)}(\d+)\.", k))}
    return max(found) + 1 if found else 0


def _heads_fitting(inner: int, base: Mapping[str, Any], what: str) -> dict[str, int]:
    """The attention heads of the base transformer, when the ControlNet's width
    is the base's (it always is for the ControlNets published)."""
    head_dim = int(base["attention_head_dim"])
    heads = int(base["num_attention_heads"])
    if inner != head_dim * heads:
        raise UserFacingError(f"This {what} ControlNet is {inner} wide; the loaded model's "
                              f"transformer is {head_dim * heads} wide, so it cannot guide it.")
    return {"attention_head_dim": head_dim, "num_attention_heads": heads}


# ---- SD3 / SD3.5 -------------------------------------------------------------------------

def is_stability_layout(shapes: Shapes) -> bool:
    """Stability AI's sd3.5_large_controlnet_* files keep fused q/k/v."""
    return any(k.endswith(".attn.qkv.weight") and k.startswith("transformer_blocks.")
               for k in shapes)


def sd3_from_stability(state: Mapping[str, Any]) -> dict[str, Any]:
    """Stability's SD3.5 ControlNet tensors under diffusers' SD3ControlNetModel names."""
    out: dict[str, Any] = {}
    renames = {".attn.proj.": ".attn.to_out.0.", ".mlp.fc1.": ".ff.net.0.proj.",
               ".mlp.fc2.": ".ff.net.2.", ".adaLN_modulation.1.": ".norm1.linear."}
    for key, value in state.items():
        if ".attn.qkv." in key:
            for letter, part in zip("qkv", value.chunk(3, dim=0), strict=True):
                out[key.replace(".attn.qkv.", f".attn.to_{letter}.")] = part
            continue
        for old, new in renames.items():
            key = key.replace(old, new)
        out[key] = value
    return out


def sd3_config(shapes: Shapes, base: Mapping[str, Any]) -> dict[str, Any]:
    """An SD3ControlNetModel config for diffusers-named tensors `shapes`
    beside an SD3Transformer2DModel of config `base`."""
    proj = shapes["pos_embed_input.proj.weight"]  # [inner, in + extra, patch, patch]
    in_channels = int(base.get("in_channels", 16))
    use_pos_embed = "pos_embed.proj.weight" in shapes
    context = shapes.get("context_embedder.weight")
    n = _count(shapes, "transformer_blocks.")
    config = {
        "_class_name": "SD3ControlNetModel",
        "sample_size": base.get("sample_size", 128), "patch_size": proj[-1],
        "in_channels": in_channels, "out_channels": base.get("out_channels", in_channels),
        "num_layers": n, **_heads_fitting(proj[0], base, "SD3"),
        "joint_attention_dim": context[1] if context else None,
        "caption_projection_dim": base.get("caption_projection_dim", proj[0]),
        "pooled_projection_dim": shapes["time_text_embed.text_embedder.linear_1.weight"][1],
        "pos_embed_max_size": base.get("pos_embed_max_size") if use_pos_embed else None,
        "pos_embed_type": "sincos" if use_pos_embed else None,
        "use_pos_embed": use_pos_embed,
        "extra_conditioning_channels": proj[1] - in_channels,
        "dual_attention_layers": [i for i in range(n)
                                  if f"transformer_blocks.{i}.attn2.to_q.weight" in shapes],
        "qk_norm": "rms_norm" if any(k.endswith("attn.norm_q.weight") for k in shapes) else None,
        # Stability's SD3.5 ControlNets read the pooled text; InstantX's are trained on zeros
        "force_zeros_for_pooled_projection": use_pos_embed,
    }
    return config


# ---- FLUX.1 ------------------------------------------------------------------------------

def flux_config(shapes: Shapes, base: Mapping[str, Any]) -> dict[str, Any]:
    """A FluxControlNetModel config for diffusers-named tensors `shapes`
    beside a FluxTransformer2DModel of config `base`."""
    x_in = shapes["x_embedder.weight"]
    mode = shapes.get("controlnet_mode_embedder.weight")
    hint = _count(shapes, "input_hint_block.")
    return {
        "_class_name": "FluxControlNetModel",
        "patch_size": base.get("patch_size", 1), "in_channels": x_in[1],
        "num_layers": _count(shapes, "transformer_blocks."),
        "num_single_layers": _count(shapes, "single_transformer_blocks."),
        **_heads_fitting(x_in[0], base, "FLUX.1"),
        "joint_attention_dim": shapes["context_embedder.weight"][1],
        "pooled_projection_dim": shapes["time_text_embed.text_embedder.linear_1.weight"][1],
        "guidance_embeds": any(k.startswith("time_text_embed.guidance_embedder.")
                               for k in shapes),
        "axes_dims_rope": list(base.get("axes_dims_rope", (16, 56, 56))),
        "num_mode": mode[0] if mode else None,
        "conditioning_embedding_channels": (shapes["input_hint_block.0.weight"][0]
                                            if hint else None),
    }


# ---- SDXL union --------------------------------------------------------------------------

def union_config(shapes: Shapes, controlnet_config: Mapping[str, Any]) -> dict[str, Any]:
    """A ControlNetUnionModel config: the ControlNetModel config derived for the
    same UNet copy (controlnet_loading.derived_config) plus the task
    embedding's sizes, read from the tensors."""
    import inspect

    from diffusers import ControlNetUnionModel

    takes = set(inspect.signature(ControlNetUnionModel.__init__).parameters) - {"self"}
    config = {k: v for k, v in controlnet_config.items() if k in takes}
    types, channels = shapes["task_embedding"]
    config.update(_class_name="ControlNetUnionModel", num_control_type=types,
                  num_trans_channel=channels,
                  num_trans_layer=_count(shapes, "transformer_layes."),
                  num_proj_channel=shapes["spatial_ch_projs.weight"][0])
    return config


def build_from_state(cls, config: Mapping[str, Any], state: Mapping[str, Any], dtype):
    """`cls` made from `config` without initialising its weights, then given
    `state` (every tensor must fit, none may be missing)."""
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        model = cls.from_config(dict(config))
    missing, unexpected = model.load_state_dict(dict(state), strict=False, assign=True)
    if missing or unexpected:
        raise UserFacingError(
            f"The ControlNet's tensors do not fit a {cls.__name__}: "
            f"{len(missing)} missing (e.g. {', '.join(missing[:2])}), "
            f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:2])}).")
    return model.to(dtype).eval()
