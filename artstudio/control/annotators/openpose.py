"""Body pose from the OpenPose body network (body_pose_model.pth in
lllyasviel/Annotators): a VGG front and six stages that refine part heatmaps
(19) and part affinity fields (38); pose_skeleton.py turns them into people
and draws them as OpenPose ControlNets read them.

The architecture follows controlnet-aux's open_pose/model.py (from
Hzzone/pytorch-openpose), so the published state dict loads: its keys are the
layer names without the block prefix (conv1_1.weight, Mconv7_stage6_L2.bias).
The weights are the artist's own file and keep CMU's OpenPose licence
(academic, non-commercial); nothing of them ships with the app."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artstudio.control.annotators import loading, pose_skeleton

BODY_FILE = "body_pose_model.pth"
_BOX = 368  # the height the network sees, as OpenPose's demo runs it
_STRIDE = 8
_STAGES = range(2, 7)


def _layers(spec, no_relu: set[str]):
    from collections import OrderedDict

    from torch import nn

    layers = []
    for name, v in spec:
        if name.startswith("pool"):
            layers.append((name, nn.MaxPool2d(2, 2, 0)))
            continue
        layers.append((name, nn.Conv2d(v[0], v[1], v[2], 1, v[2] // 2)))
        if name not in no_relu:
            layers.append(("relu_" + name, nn.ReLU(inplace=True)))
    return nn.Sequential(OrderedDict(layers))


def build():
    import torch
    from torch import nn

    # The published code leaves out Mconv7_stage6_L2 from the layers without a
    # ReLU (it names stage 6's L1 twice), so its heatmaps pass through one; kept.
    no_relu = {"conv5_5_CPM_L1", "conv5_5_CPM_L2",
               *(f"Mconv7_stage{i}_L{b}" for i in range(2, 6) for b in (1, 2)),
               "Mconv7_stage6_L1"}
    front = [("conv1_1", (3, 64, 3)), ("conv1_2", (64, 64, 3)), ("pool1_stage1", None),
             ("conv2_1", (64, 128, 3)), ("conv2_2", (128, 128, 3)), ("pool2_stage1", None),
             ("conv3_1", (128, 256, 3)), ("conv3_2", (256, 256, 3)), ("conv3_3", (256, 256, 3)),
             ("conv3_4", (256, 256, 3)), ("pool3_stage1", None), ("conv4_1", (256, 512, 3)),
             ("conv4_2", (512, 512, 3)), ("conv4_3_CPM", (512, 256, 3)),
             ("conv4_4_CPM", (256, 128, 3))]

    def first(branch: int, out: int):
        return [*((f"conv5_{j}_CPM_L{branch}", (128, 128, 3)) for j in (1, 2, 3)),
                (f"conv5_4_CPM_L{branch}", (128, 512, 1)),
                (f"conv5_5_CPM_L{branch}", (512, out, 1))]

    def later(stage: int, branch: int, out: int):
        return [(f"Mconv1_stage{stage}_L{branch}", (185, 128, 7)),
                *((f"Mconv{j}_stage{stage}_L{branch}", (128, 128, 7)) for j in range(2, 6)),
                (f"Mconv6_stage{stage}_L{branch}", (128, 128, 1)),
                (f"Mconv7_stage{stage}_L{branch}", (128, out, 1))]

    class BodyPose(nn.Module):
        def __init__(self):
            super().__init__()
            self.model0 = _layers(front, no_relu)
            self.model1_1 = _layers(first(1, 38), no_relu)
            self.model1_2 = _layers(first(2, 19), no_relu)
            for i in _STAGES:
                setattr(self, f"model{i}_1", _layers(later(i, 1, 38), no_relu))
                setattr(self, f"model{i}_2", _layers(later(i, 2, 19), no_relu))

        def forward(self, x):
            features = self.model0(x)
            pafs, heatmaps = self.model1_1(features), self.model1_2(features)
            for i in _STAGES:
                joined = torch.cat([pafs, heatmaps, features], 1)
                pafs = getattr(self, f"model{i}_1")(joined)
                heatmaps = getattr(self, f"model{i}_2")(joined)
            return pafs, heatmaps

    return BodyPose()


def with_block_names(state: dict, network) -> dict:
    """The published keys (conv1_1.weight) under the network's own
    (model0.conv1_1.weight); a file already named so is taken as it is."""
    own = {k.split(".", 1)[1]: k for k in network.state_dict()}
    return {own.get(k, k): v for k, v in state.items()}


def maps(net, bgr: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
    """(heatmaps HxWx19, part affinity fields HxWx38) at the picture's size."""
    import cv2
    import torch

    height, width = bgr.shape[:2]
    scale = _BOX / height
    fed = cv2.resize(bgr, (int(width * scale), int(height * scale)),
                     interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LANCZOS4)
    fh, fw = fed.shape[:2]
    padded = np.full((-(-fh // _STRIDE) * _STRIDE, -(-fw // _STRIDE) * _STRIDE, 3), 128, np.uint8)
    padded[:fh, :fw] = fed
    with torch.inference_mode():
        pafs, heatmaps = net(loading.tensor(padded, device, 1 / 256.0, -0.5))

    def back(out) -> np.ndarray:  # one channel at a time: Lanczos takes at most 4
        channels = []
        for grid in out[0].float().cpu().numpy():
            grid = cv2.resize(grid, None, fx=_STRIDE, fy=_STRIDE, interpolation=cv2.INTER_LANCZOS4)
            channels.append(cv2.resize(np.ascontiguousarray(grid[:fh, :fw]), (width, height),
                                       interpolation=cv2.INTER_AREA if fh > height
                                       else cv2.INTER_LANCZOS4))
        return np.stack(channels, axis=2)

    return back(heatmaps), back(pafs)


def run(path: Path, rgb: np.ndarray, device: str) -> np.ndarray:
    """The people's skeletons in OpenPose's colours on black, the size of `rgb`."""
    net = loading.network(path, device, build, "OpenPose body", with_block_names)
    height, width = rgb.shape[:2]
    small = loading.resized(rgb, *loading.detect_size(height, width))
    heatmaps, pafs = maps(net, np.ascontiguousarray(small[:, :, ::-1]), device)  # it reads BGR
    people = pose_skeleton.people(heatmaps, pafs)
    canvas = pose_skeleton.draw(people, small.shape[:2])
    return loading.resized(canvas, height, width)
