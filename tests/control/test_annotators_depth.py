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


def save_depth_folder(folder, depth_type="relative"):
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    backbone = Dinov2Config(image_size=28, patch_size=14, hidden_size=16, num_hidden_layers=4,
                            num_attention_heads=2, intermediate_size=32,
                            out_features=["stage1", "stage2", "stage3", "stage4"],
                            reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=16,
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
    return {kind: save_depth_folder(root / kind, kind) for kind in ("relative", "metric")}


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
