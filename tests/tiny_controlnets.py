"""Tiny RANDOM ControlNets for the tests, made from a tiny UNet the way
ControlNet training starts (ControlNetModel.from_unet), with the zero
convolutions given random weights so the ControlNet changes the result.

Saved three ways, as artists find them: a diffusers folder, a single file in
A1111's original key layout (`input_blocks.*`, `zero_convs.*`,
`input_hint_block.*`, as control_v11p_sd15_*.safetensors are) and a single
file with diffusers' keys (as SDXL ControlNets are shared)."""

from __future__ import annotations

from pathlib import Path

from tiny_pipelines import _UNET_TOP, _unet_key

ZERO_CONVS = ("controlnet_down_blocks", "controlnet_mid_block",
              "controlnet_cond_embedding.conv_out")


def build_tiny_controlnet(unet, seed: int = 0, scale: float = 0.3):
    import torch
    from diffusers import ControlNetModel

    torch.manual_seed(seed)
    # one strided conv in the hint encoder: the tiny VAE halves the size once
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    with torch.no_grad():
        for name, param in controlnet.named_parameters():
            if name.startswith(ZERO_CONVS):
                param.normal_(0.0, scale)
    return controlnet.eval()


def to_ldm_state_dict(controlnet, prefix: str = "") -> dict:
    """The ControlNet's tensors under A1111's original names."""
    config = dict(controlnet.config)
    out = {}
    n_blocks = len(config["conditioning_embedding_out_channels"]) * 2 - 2
    for key, value in controlnet.state_dict().items():
        parts = key.split(".")
        if key.startswith("controlnet_cond_embedding."):
            what = parts[1]
            index = {"conv_in": 0, "conv_out": 14}.get(what)
            if index is None:  # blocks.k
                index = 2 * (int(parts[2]) + 1)
                assert int(parts[2]) < n_blocks
            name = f"input_hint_block.{index}.{parts[-1]}"
        elif key.startswith("controlnet_down_blocks."):
            name = f"zero_convs.{parts[1]}.0.{parts[-1]}"
        elif key.startswith("controlnet_mid_block."):
            name = f"middle_block_out.0.{parts[-1]}"
        elif any(key.startswith(top + ".") for top in _UNET_TOP) or key.startswith(
                ("down_blocks.", "mid_block.")):
            name = _unet_key(key, config)
        else:
            raise KeyError(f"no original name for controlnet key {key}")
        out[prefix + name] = value.detach().contiguous()
    return out


def save_tiny_controlnet(controlnet, root: Path, name: str) -> dict[str, Path]:
    """{"diffusers": folder, "single": A1111 layout file, "single-diffusers": file}."""
    from safetensors.torch import save_file

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    folder = root / name
    controlnet.save_pretrained(str(folder), safe_serialization=True)
    single = root / f"{name}.safetensors"
    save_file(to_ldm_state_dict(controlnet), str(single))
    flat = root / f"{name}-diffusers-keys.safetensors"
    save_file({k: v.detach().contiguous() for k, v in controlnet.state_dict().items()},
              str(flat))
    return {"diffusers": folder, "single": single, "single-diffusers": flat}


def _randomise(net, prefixes: tuple[str, ...], seed: int, scale: float):
    """The zero-initialised parts of a fresh ControlNet given random weights,
    so it changes the picture as a trained one does."""
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if name.startswith(prefixes):
                param.normal_(0.0, scale)
    return net.eval()


def save_folder_and_file(net, root: Path, name: str) -> dict[str, Path]:
    """{"diffusers": folder, "single": the same tensors as one file}, as union,
    SD3 and FLUX ControlNets are shared (ComfyUI users rename the folder's
    diffusion_pytorch_model.safetensors)."""
    from safetensors.torch import save_file

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    net.save_pretrained(str(root / name), safe_serialization=True)
    single = root / f"{name}.safetensors"
    save_file({k: v.detach().contiguous() for k, v in net.state_dict().items()}, str(single))
    return {"diffusers": root / name, "single": single}


def build_tiny_union(unet, seed: int = 0, types: int = 8, scale: float = 0.3):
    """A union SDXL ControlNet (xinsir's ControlNetUnionModel; 8 types as in
    promax) over the tiny SDXL UNet."""
    import inspect

    from diffusers import ControlNetModel, ControlNetUnionModel

    plain = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(16, 32))
    takes = set(inspect.signature(ControlNetUnionModel.__init__).parameters)
    config = {k: v for k, v in plain.config.items() if k in takes}
    width = unet.config.block_out_channels[0]
    union = ControlNetUnionModel(**config, num_control_type=types, num_trans_channel=width,
                                 num_proj_channel=width)
    union.load_state_dict(plain.state_dict(), strict=False)
    return _randomise(union, (*ZERO_CONVS, "spatial_ch_projs"), seed, scale)


def build_tiny_sd3_controlnet(transformer, seed: int = 0, scale: float = 0.3,
                              stability: bool = False):
    """An SD3 ControlNet over a tiny SD3 transformer: InstantX's kind (its own
    patch embedding and text projection), or with `stability` the kind of
    Stability AI's SD3.5 large ControlNets (no text context, patches shared
    with the transformer)."""
    from diffusers import SD3ControlNetModel

    config = {k: v for k, v in transformer.config.items() if not k.startswith("_")}
    config.update(num_layers=1, extra_conditioning_channels=0)
    if stability:
        config.update(joint_attention_dim=None, use_pos_embed=False, pos_embed_max_size=None,
                      pos_embed_type=None, force_zeros_for_pooled_projection=False,
                      qk_norm=None, dual_attention_layers=())
    net = SD3ControlNetModel.from_config(config)
    if not stability:
        net.pos_embed.load_state_dict(transformer.pos_embed.state_dict())
        net.context_embedder.load_state_dict(transformer.context_embedder.state_dict())
        net.transformer_blocks.load_state_dict(transformer.transformer_blocks.state_dict(),
                                               strict=False)
    net.time_text_embed.load_state_dict(transformer.time_text_embed.state_dict())
    return _randomise(net, ("controlnet_blocks", "pos_embed_input"), seed, scale)


def sd3_to_stability(state: dict) -> dict:
    """SD3ControlNetModel tensors under Stability AI's names (fused q/k/v):
    the inverse of transformer_controlnets.sd3_from_stability."""
    import torch

    renames = {".attn.to_out.0.": ".attn.proj.", ".ff.net.0.proj.": ".mlp.fc1.",
               ".ff.net.2.": ".mlp.fc2.", ".norm1.linear.": ".adaLN_modulation.1."}
    out = {}
    for key, value in state.items():
        if ".attn.to_q." in key:
            parts = [state[key.replace(".to_q.", f".to_{x}.")] for x in "qkv"]
            out[key.replace(".attn.to_q.", ".attn.qkv.")] = torch.cat(parts)
            continue
        if ".attn.to_k." in key or ".attn.to_v." in key:
            continue
        for new, old in renames.items():
            key = key.replace(new, old)
        out[key] = value.detach().contiguous()
    return out


def build_tiny_flux_controlnet(transformer, seed: int = 0, scale: float = 0.3,
                               modes: int | None = None):
    """A FLUX.1 ControlNet over the tiny FLUX transformer (InstantX's kind;
    with `modes` a union one with a mode embedding, as InstantX's and
    Shakker-Labs' union ControlNets)."""
    from diffusers import FluxControlNetModel

    config = {k: v for k, v in transformer.config.items() if not k.startswith("_")}
    config.update(num_layers=1, num_single_layers=1, num_mode=modes)
    net = FluxControlNetModel.from_config(config)
    for part in ("pos_embed", "time_text_embed", "context_embedder", "x_embedder"):
        getattr(net, part).load_state_dict(getattr(transformer, part).state_dict())
    net.transformer_blocks.load_state_dict(transformer.transformer_blocks.state_dict(),
                                           strict=False)
    net.single_transformer_blocks.load_state_dict(
        transformer.single_transformer_blocks.state_dict(), strict=False)
    return _randomise(net, ("controlnet_blocks", "controlnet_single_blocks",
                            "controlnet_x_embedder"), seed, scale)
