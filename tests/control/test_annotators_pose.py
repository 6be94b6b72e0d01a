"""Pose: the OpenPose body network loads from body_pose_model.pth (random
weights saved under the published key names); its heatmaps and part affinity
fields become people, drawn in OpenPose's colours as its ControlNets read them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artstudio.control import preprocessors
from artstudio.control.annotators import openpose, pose_skeleton

H, W = 200, 260
# A standing person (x, y) in OpenPose's part order: nose, neck, right arm,
# left arm, right leg, left leg, eyes, ears.
JOINTS = [(64, 30), (64, 50), (44, 52), (36, 76), (32, 100), (84, 52), (92, 76), (96, 100),
          (52, 104), (50, 140), (48, 176), (76, 104), (78, 140), (80, 176), (58, 24), (70, 24),
          (52, 28), (76, 28)]


def person_maps(joints, sigma=4.0, width=3.0):
    """The maps a perfect network would give for `joints`: a blob per part,
    unit vectors along each limb."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    heat = np.zeros((H, W, 19), np.float32)
    fields = np.zeros((H, W, 38), np.float32)
    for part, (x, y) in enumerate(joints):
        heat[:, :, part] = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma ** 2))
    for (a, b), (fx, fy) in zip(pose_skeleton.LIMBS, pose_skeleton.FIELDS, strict=True):
        (x1, y1), (x2, y2) = joints[a], joints[b]
        length = float(np.hypot(x2 - x1, y2 - y1))
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        along = (xx - x1) * ux + (yy - y1) * uy
        on = (along >= -1) & (along <= length + 1) & (np.abs((xx - x1) * uy - (yy - y1) * ux)
                                                      <= width)
        fields[:, :, fx][on], fields[:, :, fy][on] = ux, uy
    return heat, fields


def test_the_network_has_the_published_key_names():
    own = {k.split(".", 1)[1]: tuple(v.shape) for k, v in openpose.build().state_dict().items()}
    assert own["conv1_1.weight"] == (64, 3, 3, 3)
    assert own["conv5_5_CPM_L1.weight"] == (38, 512, 1, 1)
    assert own["Mconv1_stage2_L1.weight"] == (128, 185, 7, 7)
    assert own["Mconv7_stage6_L2.weight"] == (19, 128, 1, 1)
    assert len(own) == 184


def test_the_body_model_loads_from_the_annotator_folder_and_draws_at_the_layers_size(
        annotators):
    assert "body_pose_model.pth" in preprocessors.unavailable_reason("openpose")
    torch.manual_seed(0)
    published = {k.split(".", 1)[1]: v for k, v in openpose.build().state_dict().items()}
    torch.save(published, annotators / "body_pose_model.pth")
    assert preprocessors.unavailable_reason("openpose") is None
    layer = np.random.default_rng(1).integers(0, 256, (61, 97, 3), dtype=np.uint8)
    out = preprocessors.preprocess("pose", layer, device="cpu")
    assert out.shape == (61, 97, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("shifts", [[0], [0, 120]])
def test_heatmaps_and_fields_become_each_person_with_every_part(shifts):
    heat = np.zeros((H, W, 19), np.float32)
    fields = np.zeros((H, W, 38), np.float32)
    for shift in shifts:
        one_heat, one_fields = person_maps([(x + shift, y) for x, y in JOINTS])
        heat = np.maximum(heat, one_heat)
        fields = np.where(one_fields != 0, one_fields, fields)
    found = sorted(pose_skeleton.people(heat, fields), key=lambda p: p[0][0])
    assert len(found) == len(shifts)
    for person, shift in zip(found, shifts, strict=True):
        assert all(p is not None for p in person)
        assert max(abs(p[0] - x - shift) + abs(p[1] - y)
                   for p, (x, y) in zip(person, JOINTS, strict=True)) <= 1


def test_weak_heatmaps_find_nobody():
    heat, fields = person_maps(JOINTS)
    assert pose_skeleton.people(heat * 0.05, fields) == []


def test_a_person_is_drawn_in_openposes_colours_on_black():
    parts = [(float(x), float(y)) for x, y in JOINTS]
    parts[4] = None  # a hidden right wrist: its joint and forearm are not drawn
    canvas = pose_skeleton.draw([parts], (H, W))
    assert tuple(canvas[30, 64]) == (255, 0, 0)  # the nose
    assert tuple(canvas[52, 84]) == (85, 255, 0)  # the left shoulder
    neck_to_right_hip = ((64 + 52) // 2, (50 + 104) // 2)
    assert tuple(canvas[neck_to_right_hip[1], neck_to_right_hip[0]]) == (0, 153, 0)  # 0.6 x
    assert not canvas[100, 32].any() and not canvas[0, 0].any() and not canvas[190, 250].any()


def test_the_networks_maps_come_back_at_the_pictures_place_and_size():
    height, width = 300, 420  # seen at 368 px high, padded to a multiple of 8

    def network(x):
        gh, gw = x.shape[2] // 8, x.shape[3] // 8
        seen_w = int(width * 368 / height) / 8  # the grid cells the picture fills
        heat = torch.zeros(1, 19, gh, gw)
        gy, gx = torch.meshgrid(torch.arange(gh), torch.arange(gw), indexing="ij")
        heat[0, 0] = torch.exp(-((gx - seen_w * 0.75) ** 2 + (gy - 46 * 0.25) ** 2) / 2)
        assert x.shape[2] % 8 == 0 and x.shape[3] % 8 == 0 and float(x.abs().max()) <= 0.5
        return torch.zeros(1, 38, gh, gw), heat

    heatmaps, fields = openpose.maps(network, np.zeros((height, width, 3), np.uint8), "cpu")
    assert heatmaps.shape == (height, width, 19) and fields.shape == (height, width, 38)
    y, x = np.unravel_index(np.argmax(heatmaps[:, :, 0]), (height, width))
    assert abs(x - width * 0.75) <= 8 and abs(y - height * 0.25) <= 8
