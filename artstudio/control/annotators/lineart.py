"""Line art from the "informative drawings" generator (Chan, Durand, Isola
2022), as controlnet-aux runs it for ControlNet 1.1's lineart model:
sk_model.pth (realistic) and sk_model2.pth (coarse), lllyasviel/Annotators.

The architecture follows controlnet-aux's lineart/__init__.py (Apache-2.0),
itself from carolineec/informative-drawings (MIT, Copyright (c) 2022 Caroline
Chan), so that the published state dicts load with their own key names
(model0.1.weight, model2.0.conv_block.1.weight, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artstudio.control.annotators import loading

REALISTIC_FILE = "sk_model.pth"
COARSE_FILE = "sk_model2.pth"


def build():
    from torch import nn

    class ResidualBlock(nn.Module):
        def __init__(self, features: int):
            super().__init__()
            self.conv_block = nn.Sequential(
                nn.ReflectionPad2d(1), nn.Conv2d(features, features, 3),
                nn.InstanceNorm2d(features), nn.ReLU(inplace=True),
                nn.ReflectionPad2d(1), nn.Conv2d(features, features, 3),
                nn.InstanceNorm2d(features))

        def forward(self, x):
            return x + self.conv_block(x)

    class Generator(nn.Module):
        """Generator(3, 1, n_residual_blocks=3) of informative-drawings."""

        def __init__(self, residual_blocks: int = 3):
            super().__init__()
            self.model0 = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 64, 7),
                                        nn.InstanceNorm2d(64), nn.ReLU(inplace=True))
            self.model1 = nn.Sequential(
                nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.InstanceNorm2d(128),
                nn.ReLU(inplace=True),
                nn.Conv2d(128, 256, 3, stride=2, padding=1), nn.InstanceNorm2d(256),
                nn.ReLU(inplace=True))
            self.model2 = nn.Sequential(*(ResidualBlock(256) for _ in range(residual_blocks)))
            self.model3 = nn.Sequential(
                nn.ConvTranspose2d(256, 128, 3, stride=2, padding=1, output_padding=1),
                nn.InstanceNorm2d(128), nn.ReLU(inplace=True),
                nn.ConvTranspose2d(128, 64, 3, stride=2, padding=1, output_padding=1),
                nn.InstanceNorm2d(64), nn.ReLU(inplace=True))
            self.model4 = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(64, 1, 7), nn.Sigmoid())

        def forward(self, x):
            return self.model4(self.model3(self.model2(self.model1(self.model0(x)))))

    return Generator()


def run(path: Path, rgb: np.ndarray, device: str) -> np.ndarray:
    """White lines on black, the size of `rgb`."""
    import torch

    net = loading.network(path, device, build, "line art (informative drawings)")
    height, width = rgb.shape[:2]
    small = loading.resized(rgb, *loading.detect_size(height, width))
    with torch.inference_mode():
        drawing = net(loading.tensor(small, device, 1 / 255.0))[0, 0].clamp(0, 1)
    # The generator draws dark lines on white paper; ControlNets read the opposite.
    return loading.as_rgb(255.0 - drawing.float().cpu().numpy() * 255.0, height, width)
