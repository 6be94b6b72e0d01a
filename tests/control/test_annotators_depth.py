"""Depth from a transformers depth-estimation folder (Depth Anything's layout,
tiny and random here) in the annotator folder: found, loaded offline, a
control image of the layer's size, near white and far black."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from artstudio.control import preprocessors
from artstudio.engine.errors import UserFacingError

H, W = 61, 97


def save_depth_folder(folder, depth_type="relative", hidden=16, heads=2):
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    backbone = Dinov2Config(image_size=28, patch_size=14, hidden_size=hidden, num_hidden_layers=4,
                            num_attention_heads=heads, intermediate_size=2 * hidden,
                            out_features=["stage1", "stage2", "stage3", "stage4"],
                            reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=hidden,
                                 neck_hidden_sizes=[8, 16, 16, 16], fusion_hidden_size=16,
                                 head_hidden_size=8, depth_estimation_type=depth_type)
    torch.manual_seed(0)
    DepthAnythingForDepthEstimation(config).save_pretrained(folder)
    DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=True,
                      ensure_multiple_of=14, image_mean=[0.485, 0.456, 0.406],
                      image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)
    return folder


def picture() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def tiny_depth(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth")
    made = {kind: save_depth_folder(root / kind, kind) for kind in ("relative", "metric")}
    # DINOv2's heads are 64 wide; the original files do not say how many there are.
    made["wide"] = save_depth_folder(root / "wide", hidden=64, heads=1)
    return made


def test_a_depth_folder_is_found_one_level_down_and_gives_a_full_range_map(
        annotators, tiny_depth, monkeypatch):
    assert preprocessors.unavailable_reason("depth") is not None
    (annotators / "depth-anything-v2-small-hf").symlink_to(tiny_depth["relative"])
    assert preprocessors.unavailable_reason("depth") is None
    out = preprocessors.preprocess("depth", picture(), device="cpu")
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    assert out.min() == 0 and out.max() == 255  # spread over the whole range
    assert np.array_equal(out[..., 0], out[..., 1])


def _raw_depth(folder) -> np.ndarray:
    """The model's own output at the picture's size, larger = farther for a
    metric model, larger = nearer for a relative one."""
    from transformers import AutoImageProcessor, AutoModelForDepthEstimation

    model = AutoModelForDepthEstimation.from_pretrained(folder, local_files_only=True).eval()
    inputs = AutoImageProcessor.from_pretrained(folder)(images=picture(), return_tensors="pt")
    with torch.inference_mode():
        depth = model(**inputs).predicted_depth[None]
    return torch.nn.functional.interpolate(depth, size=(H, W), mode="bicubic")[0, 0].numpy()


@pytest.mark.parametrize(("kind", "sign"), [("relative", 1), ("metric", -1)])
def test_near_is_white_for_relative_and_metric_models(annotators, tiny_depth, kind, sign):
    (annotators / kind).symlink_to(tiny_depth[kind])
    out = preprocessors.preprocess("depth", picture(), device="cpu")[..., 0].astype(float)
    correlation = np.corrcoef(out.ravel(), _raw_depth(tiny_depth[kind]).ravel())[0, 1]
    assert correlation * sign > 0.99


def test_the_folders_config_must_name_a_depth_model(annotators, tiny_depth):
    fake = annotators / "not-depth"
    fake.mkdir()
    (fake / "config.json").write_text(json.dumps({"model_type": "clip"}))
    reason = preprocessors.unavailable_reason("depth")
    assert reason and "depth-estimation model folder" in reason and str(annotators) in reason


def test_a_broken_depth_folder_gives_one_clear_line(annotators, tiny_depth):
    broken = annotators / "depth-anything-v2-small-hf"
    broken.mkdir()
    (broken / "config.json").write_text(
        (tiny_depth["relative"] / "config.json").read_text(encoding="utf-8"))
    with pytest.raises(UserFacingError, match="The depth model depth-anything-v2-small-hf "
                                              "could not be loaded"):
        preprocessors.preprocess("depth", picture(), device="cpu")


def to_original_layout(folder) -> dict:
    """The tiny model's tensors under the names of LiheYoung/Depth-Anything's
    checkpoints (as transformers' convert_depth_anything_to_hf.py reads them)."""
    from safetensors.torch import load_file

    hf = load_file(folder / "model.safetensors")
    out = {}
    top = {"backbone.embeddings.cls_token": "pretrained.cls_token",
           "backbone.embeddings.mask_token": "pretrained.mask_token",
           "backbone.embeddings.position_embeddings": "pretrained.pos_embed",
           "backbone.embeddings.patch_embeddings.projection.weight":
               "pretrained.patch_embed.proj.weight",
           "backbone.embeddings.patch_embeddings.projection.bias":
               "pretrained.patch_embed.proj.bias",
           "backbone.layernorm.weight": "pretrained.norm.weight",
           "backbone.layernorm.bias": "pretrained.norm.bias",
           "head.conv1.weight": "depth_head.scratch.output_conv1.weight",
           "head.conv1.bias": "depth_head.scratch.output_conv1.bias",
           "head.conv2.weight": "depth_head.scratch.output_conv2.0.weight",
           "head.conv2.bias": "depth_head.scratch.output_conv2.0.bias",
           "head.conv3.weight": "depth_head.scratch.output_conv2.2.weight",
           "head.conv3.bias": "depth_head.scratch.output_conv2.2.bias"}
    for key, value in hf.items():
        parts = key.split(".")
        if key in top:
            out[top[key]] = value
        elif key.startswith("backbone.encoder.layer."):
            i, rest = parts[3], ".".join(parts[4:])
            if rest.startswith("attention.attention."):
                if parts[6] == "query":
                    what = parts[7]
                    out[f"pretrained.blocks.{i}.attn.qkv.{what}"] = torch.cat([hf[
                        f"backbone.encoder.layer.{i}.attention.attention.{p}.{what}"]
                        for p in ("query", "key", "value")])
                continue
            rest = (rest.replace("layer_scale1.lambda1", "ls1.gamma")
                    .replace("layer_scale2.lambda1", "ls2.gamma")
                    .replace("attention.output.dense", "attn.proj"))
            out[f"pretrained.blocks.{i}.{rest}"] = value
        elif key.startswith("neck.reassemble_stage.layers."):
            i, part, what = parts[3], parts[4], parts[5]
            name = "projects" if part == "projection" else "resize_layers"
            out[f"depth_head.{name}.{i}.{what}"] = value
        elif key.startswith("neck.convs."):
            out[f"depth_head.scratch.layer{int(parts[2]) + 1}_rn.{parts[3]}"] = value
        elif key.startswith("neck.fusion_stage.layers."):
            unit = 4 - int(parts[3])
            rest = (".".join(parts[4:]).replace("projection", "out_conv")
                    .replace("residual_layer1.convolution", "resConfUnit1.conv")
                    .replace("residual_layer2.convolution", "resConfUnit2.conv"))
            out[f"depth_head.scratch.refinenet{unit}.{rest}"] = value
        else:
            raise AssertionError(f"unmapped {key}")
    return out


def test_an_original_depth_anything_file_gives_what_its_transformers_folder_gives(
        annotators, tiny_depth):
    original = to_original_layout(tiny_depth["wide"])
    for published in ("pretrained.blocks.0.attn.qkv.weight", "pretrained.blocks.3.ls2.gamma",
                      "depth_head.resize_layers.3.weight", "depth_head.scratch.layer4_rn.weight",
                      "depth_head.scratch.refinenet4.resConfUnit2.conv1.bias"):
        assert published in original, published
    below = annotators / "LiheYoung" / "Depth-Anything" / "checkpoints"  # ComfyUI's layout
    below.mkdir(parents=True)
    torch.save(original, below / "depth_anything_vits14.pth")
    out = preprocessors.preprocess("depth", picture(), device="cpu")
    assert out.shape == (H, W, 3) and out.min() == 0 and out.max() == 255

    from transformers import AutoModelForDepthEstimation

    from artstudio.control.annotators import depth_anything_files

    converted, processor = depth_anything_files.load(below / "depth_anything_vits14.pth", "cpu")
    assert processor.size == {"height": 28, "width": 28}  # the side it was trained at
    folder = AutoModelForDepthEstimation.from_pretrained(tiny_depth["wide"]).eval()
    pixels = torch.rand(1, 3, 42, 70)
    with torch.inference_mode():
        assert torch.allclose(converted(pixel_values=pixels).predicted_depth,
                              folder(pixel_values=pixels).predicted_depth, atol=1e-5)


def test_a_file_named_like_depth_anything_but_holding_another_network_is_refused(annotators):
    from artstudio.control.annotators import lineart

    torch.save(lineart.build().state_dict(), annotators / "depth_anything_v2_vits.pth")
    with pytest.raises(UserFacingError, match=r"depth_anything_v2_vits\.pth does not hold a "
                                              "Depth Anything network"):
        preprocessors.preprocess("depth", picture(), device="cpu")
