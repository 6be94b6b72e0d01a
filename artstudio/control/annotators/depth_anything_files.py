"""Depth Anything's original checkpoints (depth_anything_vit{s,b,l}14.pth of
LiheYoung/Depth-Anything, depth_anything_v2_vit{s,b,l}.pth of Depth-Anything-V2,
as ComfyUI's controlnet_aux node and A1111's ControlNet extension keep them)
loaded into transformers' DepthAnythingForDepthEstimation: the size is read
from the tensors, the keys renamed as transformers' own conversion script
(convert_depth_anything_to_hf.py, Apache-2.0) renames them, and the fused
qkv projections split. Nothing is unpickled: torch.load(weights_only=True)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from artstudio.control.annotators import loading

PATTERNS = ("depth_anything_v2_vit*.pth", "depth_anything_v2_vit*.safetensors",
            "depth_anything_vit*14.pth", "depth_anything_vit*14.safetensors")
_IMAGENET_MEAN, _IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
# The four encoder layers the head reads (1-based, as transformers counts them),
# by version and depth; other depths read their last four.
_READ_LAYERS = {("v1", 12): [9, 10, 11, 12], ("v1", 24): [21, 22, 23, 24],
                ("v2", 12): [3, 6, 9, 12], ("v2", 24): [5, 12, 18, 24]}
_HEAD_WIDTH = 64  # DINOv2's attention heads are 64 wide (ViT-S 6, B 12, L 16)


def find(folders: Sequence[Path]) -> Path | None:
    """An original Depth Anything file in `folders` or up to three levels below
    (ComfyUI: ckpts/LiheYoung/Depth-Anything/checkpoints/), V2 first."""
    for root in folders:
        if not root.is_dir():
            continue
        for pattern in PATTERNS:
            for depth in ("", "*/", "*/*/", "*/*/*/"):
                found = sorted(root.glob(depth + pattern))
                if found:
                    return found[0]
    return None


def _blocks(state: dict) -> int:
    numbers = {int(m.group(1)) for k in state if (m := re.match(r"pretrained\.blocks\.(\d+)\.", k))}
    return max(numbers) + 1 if numbers else 0


def config_of(state: dict, name: str):
    """The DepthAnythingConfig the tensors of `state` (file `name`) were made with."""
    from transformers import DepthAnythingConfig, Dinov2Config

    from artstudio.model_files.safe_load import InvalidModelError

    needed = ("pretrained.pos_embed", "pretrained.patch_embed.proj.weight",
              "depth_head.scratch.layer1_rn.weight", "depth_head.scratch.output_conv2.0.weight")
    layers = _blocks(state)
    if not layers or any(k not in state for k in needed) or any(
            f"depth_head.projects.{i}.weight" not in state for i in range(4)):
        raise InvalidModelError(f"{name} does not hold a Depth Anything network (no "
                                "pretrained.blocks / depth_head tensors).")
    hidden = state["pretrained.pos_embed"].shape[-1]
    patch = state["pretrained.patch_embed.proj.weight"].shape[-1]
    grid = round((state["pretrained.pos_embed"].shape[1] - 1) ** 0.5)
    version = "v2" if "_v2_" in name else "v1"
    backbone = Dinov2Config(
        hidden_size=hidden, num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // _HEAD_WIDTH),
        intermediate_size=state["pretrained.blocks.0.mlp.fc1.weight"].shape[0],
        patch_size=patch, image_size=grid * patch, layerscale_value=1.0,
        out_indices=_READ_LAYERS.get((version, layers), list(range(layers - 3, layers + 1))),
        apply_layernorm=True, reshape_hidden_states=False)
    return DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=hidden, patch_size=patch,
        neck_hidden_sizes=[state[f"depth_head.projects.{i}.weight"].shape[0] for i in range(4)],
        fusion_hidden_size=state["depth_head.scratch.layer1_rn.weight"].shape[0],
        head_hidden_size=state["depth_head.scratch.output_conv2.0.weight"].shape[0])


_RENAMES = (  # original prefix -> transformers prefix, applied in this order
    ("pretrained.cls_token", "backbone.embeddings.cls_token"),
    ("pretrained.mask_token", "backbone.embeddings.mask_token"),
    ("pretrained.pos_embed", "backbone.embeddings.position_embeddings"),
    ("pretrained.patch_embed.proj.", "backbone.embeddings.patch_embeddings.projection."),
    ("pretrained.norm.", "backbone.layernorm."),
    ("depth_head.scratch.output_conv1.", "head.conv1."),
    ("depth_head.scratch.output_conv2.0.", "head.conv2."),
    ("depth_head.scratch.output_conv2.2.", "head.conv3."),
)
_BLOCK_PARTS = (("ls1.gamma", "layer_scale1.lambda1"), ("ls2.gamma", "layer_scale2.lambda1"),
                ("attn.proj.", "attention.output.dense."))
_UNIT_PARTS = (("out_conv.", "projection."), ("resConfUnit1.conv", "residual_layer1.convolution"),
               ("resConfUnit2.conv", "residual_layer2.convolution"))


def convert(state: dict, hidden: int) -> dict:
    """The original tensors under transformers' names."""
    out = {}
    for key, value in state.items():
        new = key
        for old, replacement in _RENAMES:
            if key.startswith(old):
                new = replacement + key[len(old):]
                break
        if m := re.match(r"pretrained\.blocks\.(\d+)\.(.+)", key):
            layer, rest = m.groups()
            if rest.startswith("attn.qkv."):
                what = rest.rsplit(".", 1)[1]  # weight or bias
                for i, part in enumerate(("query", "key", "value")):
                    out[f"backbone.encoder.layer.{layer}.attention.attention.{part}.{what}"] = \
                        value[i * hidden:(i + 1) * hidden]
                continue
            for old, replacement in _BLOCK_PARTS:
                rest = rest.replace(old, replacement)
            new = f"backbone.encoder.layer.{layer}.{rest}"
        elif m := re.match(r"depth_head\.projects\.(\d)\.(.+)", key):
            new = f"neck.reassemble_stage.layers.{m.group(1)}.projection.{m.group(2)}"
        elif m := re.match(r"depth_head\.resize_layers\.(\d)\.(.+)", key):
            new = f"neck.reassemble_stage.layers.{m.group(1)}.resize.{m.group(2)}"
        elif m := re.match(r"depth_head\.scratch\.layer(\d)_rn\.(.+)", key):
            new = f"neck.convs.{int(m.group(1)) - 1}.{m.group(2)}"
        elif m := re.match(r"depth_head\.scratch\.refinenet(\d)\.(.+)", key):
            rest = m.group(2)
            for old, replacement in _UNIT_PARTS:
                rest = rest.replace(old, replacement)
            new = f"neck.fusion_stage.layers.{4 - int(m.group(1))}.{rest}"  # deepest first
        out[new] = value
    return out


# transformers 5 names DINOv2's attention q_proj... inside the model, though its
# files (and its conversion script) keep the older names.
_ATTENTION_NOW = ((".attention.attention.query.", ".attention.q_proj."),
                  (".attention.attention.key.", ".attention.k_proj."),
                  (".attention.attention.value.", ".attention.v_proj."),
                  (".attention.output.dense.", ".attention.o_proj."))


def _as_named_by(model, state: dict) -> dict:
    if not any(".attention.q_proj." in k for k in model.state_dict()):
        return state
    renamed = {}
    for key, value in state.items():
        for old, new in _ATTENTION_NOW:
            key = key.replace(old, new)
        renamed[key] = value
    return renamed


def load(path: Path, device: str):
    """(model, image processor) from an original Depth Anything file."""
    from transformers import DepthAnythingForDepthEstimation, DPTImageProcessor

    from artstudio.engine.network_building import NETWORK_BUILDING
    from artstudio.model_files.safe_load import load_state_dict

    state = load_state_dict(path)
    config = config_of(state, path.name)
    with NETWORK_BUILDING:
        model = DepthAnythingForDepthEstimation(config)
    converted = _as_named_by(model, convert(state, config.backbone_config.hidden_size))
    if "backbone.embeddings.mask_token" not in converted:  # unused when predicting
        converted["backbone.embeddings.mask_token"] = model.state_dict()[
            "backbone.embeddings.mask_token"]
    loading.fit(model, converted, path.name, "Depth Anything")
    side = config.backbone_config.image_size  # 518, what it was trained at
    processor = DPTImageProcessor(size={"height": side, "width": side}, keep_aspect_ratio=True,
                                  ensure_multiple_of=config.patch_size, image_mean=_IMAGENET_MEAN,
                                  image_std=_IMAGENET_STD)
    return model.float().eval().to(device), processor
