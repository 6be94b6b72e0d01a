"""Soft edges from HED, the Apache-2.0 re-training lllyasviel made for
ControlNet 1.1 (ControlNetHED.pth in lllyasviel/Annotators): an RGB-input VGG
of five blocks, each with a one-channel side output; the edge map is the
sigmoid of their mean.

The architecture follows controlnet-aux's hed/__init__.py (Apache-2.0), so
that the published state dict loads with its key names (norm,
block1.convs.0.weight, block5.projection.weight, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artstudio.control.annotators import loading

HED_FILE = "ControlNetHED.pth"


def build():
    import torch
    from torch import nn
    from torch.nn import functional

    class DoubleConvBlock(nn.Module):
        def __init__(self, into: int, out: int, layers: int):
            super().__init__()
            self.convs = nn.Sequential(nn.Conv2d(into, out, 3, padding=1),
                                       *(nn.Conv2d(out, out, 3, padding=1)
                                         for _ in range(1, layers)))
            self.projection = nn.Conv2d(out, 1, 1)

        def forward(self, x, down_sampling: bool = False):
            h = functional.max_pool2d(x, 2, 2) if down_sampling else x
            for conv in self.convs:
                h = functional.relu(conv(h))
            return h, self.projection(h)

    class ControlNetHED(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.Parameter(torch.zeros(1, 3, 1, 1))
            self.block1 = DoubleConvBlock(3, 64, 2)
            self.block2 = DoubleConvBlock(64, 128, 2)
            self.block3 = DoubleConvBlock(128, 256, 3)
            self.block4 = DoubleConvBlock(256, 512, 3)
            self.block5 = DoubleConvBlock(512, 512, 3)

        def forward(self, x):
            h, p1 = self.block1(x - self.norm)
            h, p2 = self.block2(h, True)
            h, p3 = self.block3(h, True)
            h, p4 = self.block4(h, True)
            _h, p5 = self.block5(h, True)
            return p1, p2, p3, p4, p5

    return ControlNetHED()


def run(path: Path, rgb: np.ndarray, device: str) -> np.ndarray:
    """Soft white edges on black, the size of `rgb`."""
    import torch

    net = loading.network(path, device, build, "HED soft edge")
    height, width = rgb.shape[:2]
    small = loading.resized(rgb, *loading.detect_size(height, width))
    with torch.inference_mode():
        sides = net(loading.tensor(small, device))  # the network takes 0..255
        size = sides[0].shape[-2:]
        mean = torch.stack([torch.nn.functional.interpolate(s.float(), size=size, mode="bilinear",
                                                            align_corners=False)
                            for s in sides]).mean(0)[0, 0]
        edge = torch.sigmoid(mean) * 255.0
    return loading.as_rgb(edge.cpu().numpy(), height, width)
