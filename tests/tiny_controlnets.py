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
