"""Tiny RANDOM IP-Adapters and a tiny CLIP image encoder for the reference
tests, in the layouts artists find them:

- the encoder as ComfyUI keeps it (one .safetensors in models/clip_vision, HF
  transformers' keys) and as a diffusers download's `image_encoder/` folder;
- adapters in the original IP-Adapter key layout (`image_proj.*`,
  `ip_adapter.<n>.to_k_ip.weight`, as ip-adapter_sd15.safetensors is), made for
  a tiny UNet's cross-attention layers: base (a `proj` layer reading the image
  embedding) and plus (a Resampler reading the hidden states);
- for FLUX.1 Redux: a tiny SigLIP encoder saved with the `vision_model.` key
  prefix (as ComfyUI's sigclip_vision_patch14_384.safetensors) and a Redux
  file (`redux_up`, `redux_down`) giving tokens of the tiny FLUX's T5 width.

The encoder's sizes follow the rule image_encoders.make_config reads back
(one head per 64 of width, at least one; GELU)."""

from __future__ import annotations

from pathlib import Path

ENCODER = dict(hidden=32, intermediate=37, layers=2, patch=8, image_size=32, projection=24)
SIGLIP = dict(hidden=16, intermediate=20, layers=1, patch=8, image_size=64)  # 64 tokens


def build_tiny_encoder(seed: int = 0):
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    config = CLIPVisionConfig(
        hidden_size=ENCODER["hidden"], intermediate_size=ENCODER["intermediate"],
        projection_dim=ENCODER["projection"], num_hidden_layers=ENCODER["layers"],
        num_attention_heads=1, image_size=ENCODER["image_size"], patch_size=ENCODER["patch"],
        hidden_act="gelu", layer_norm_eps=1e-5)
    return CLIPVisionModelWithProjection(config).eval()


def _cross_layers(unet) -> list[tuple[str, int]]:
    """(processor name, hidden size) of each cross-attention layer, in the
    order the IP-Adapter's `ip_adapter.<n>` keys number them (1, 3, 5, ...)."""
    out = []
    channels = list(unet.config.block_out_channels)
    for name in unet.attn_processors:
        if not name.endswith("attn2.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        out.append((name, hidden))
    return out


def tiny_adapter_state(unet, kind: str = "base", seed: int = 0, scale: float = 0.5) -> dict:
    """An IP-Adapter for `unet` in the original layout; kind "base" or "plus"."""
    import torch

    g = torch.Generator().manual_seed(seed)
    rand = lambda *shape: torch.randn(*shape, generator=g) * scale  # noqa: E731
    cross = unet.config.cross_attention_dim
    state = {}
    if kind == "base":
        state["image_proj.proj.weight"] = rand(4 * cross, ENCODER["projection"])
        state["image_proj.proj.bias"] = rand(4 * cross)
        state["image_proj.norm.weight"] = 1 + rand(cross)
        state["image_proj.norm.bias"] = rand(cross)
    else:  # a Resampler of 4 layers, 64 wide, one head of 64, 4 queries
        width, queries = 64, 4
        state["image_proj.latents"] = rand(1, queries, width)
        state["image_proj.proj_in.weight"] = rand(width, ENCODER["hidden"])
        state["image_proj.proj_in.bias"] = rand(width)
        state["image_proj.proj_out.weight"] = rand(cross, width)
        state["image_proj.proj_out.bias"] = rand(cross)
        state["image_proj.norm_out.weight"] = 1 + rand(cross)
        state["image_proj.norm_out.bias"] = rand(cross)
        for i in range(4):
            p = f"image_proj.layers.{i}."
            for norm in ("0.norm1", "0.norm2", "1.0"):
                state[p + norm + ".weight"] = 1 + rand(width)
                state[p + norm + ".bias"] = rand(width)
            state[p + "0.to_q.weight"] = rand(64, width)
            state[p + "0.to_kv.weight"] = rand(128, width)
            state[p + "0.to_out.weight"] = rand(width, 64)
            state[p + "1.1.weight"] = rand(4 * width, width)
            state[p + "1.3.weight"] = rand(width, 4 * width)
    for n, (_name, hidden) in enumerate(_cross_layers(unet)):
        key = 2 * n + 1
        state[f"ip_adapter.{key}.to_k_ip.weight"] = rand(hidden, cross)
        state[f"ip_adapter.{key}.to_v_ip.weight"] = rand(hidden, cross)
    return {k: v.contiguous() for k, v in state.items()}


def save_tiny_encoder(encoder, comfy_root: Path, name: str = "tiny-clip-vision") -> Path:
    """The encoder as ComfyUI's models/clip_vision holds it."""
    from safetensors.torch import save_file

    folder = Path(comfy_root) / "models" / "clip_vision"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(path))
    return path


def save_tiny_adapter(state: dict, comfy_root: Path, name: str) -> Path:
    """An adapter as ComfyUI's models/ipadapter holds it."""
    from safetensors.torch import save_file

    folder = Path(comfy_root) / "models" / "ipadapter"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file(state, str(path))
    return path


def save_diffusers_download(state: dict, encoder, root: Path, name: str) -> Path:
    """The layout of the h94/IP-Adapter download: models/<name>.safetensors
    beside models/image_encoder/ (config.json, model.safetensors)."""
    from safetensors.torch import save_file

    folder = Path(root) / "models"
    encoder.save_pretrained(str(folder / "image_encoder"), safe_serialization=True)
    path = folder / f"{name}.safetensors"
    save_file(state, str(path))
    return path


def build_tiny_siglip(seed: int = 0):
    import torch
    from transformers import SiglipVisionConfig, SiglipVisionModel

    torch.manual_seed(seed)
    return SiglipVisionModel(SiglipVisionConfig(
        hidden_size=SIGLIP["hidden"], intermediate_size=SIGLIP["intermediate"],
        num_hidden_layers=SIGLIP["layers"], num_attention_heads=1,
        image_size=SIGLIP["image_size"], patch_size=SIGLIP["patch"],
        hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)).eval()


def save_tiny_siglip(encoder, comfy_root: Path, name: str = "tiny-sigclip-vision") -> Path:
    from safetensors.torch import save_file

    folder = Path(comfy_root) / "models" / "clip_vision"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    state = {k if k.startswith("vision_model.") else f"vision_model.{k}": v.contiguous()
             for k, v in encoder.state_dict().items()}
    save_file(state, str(path))
    return path


def save_tiny_redux(comfy_root: Path, text_width: int = 32, seed: int = 0,
                    name: str = "flux1-redux-tiny") -> Path:
    """A Redux file for the tiny FLUX (T5 tokens `text_width` wide)."""
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(seed)
    state = {"redux_up.weight": torch.randn(3 * text_width, SIGLIP["hidden"], generator=g),
             "redux_up.bias": torch.randn(3 * text_width, generator=g) * 0.1,
             "redux_down.weight": torch.randn(text_width, 3 * text_width, generator=g) * 0.3,
             "redux_down.bias": torch.randn(text_width, generator=g) * 0.1}
    folder = Path(comfy_root) / "models" / "style_models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_file(state, str(path))
    return path
