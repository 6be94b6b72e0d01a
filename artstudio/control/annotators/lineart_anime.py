"""Anime line art: the pix2pix U-Net generator of ControlNet 1.1's
lineart_anime preprocessor (netG.pth in lllyasviel/Annotators).

The architecture follows controlnet-aux's lineart_anime/__init__.py
(Apache-2.0; the U-Net of junyanz/pytorch-CycleGAN-and-pix2pix, BSD), so that
the published state dict loads with its key names (model.model.0.weight,
model.model.1.model.3.weight, ...)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artstudio.control.annotators import loading

ANIME_FILE = "netG.pth"
_MULTIPLE = 256  # eight halvings: the sides must divide by 2**8


def build():
    import torch
    from torch import nn

    class SkipBlock(nn.Module):
        """pix2pix's UnetSkipConnectionBlock with instance norm (so biases), no dropout."""

        def __init__(self, outer: int, inner: int, into: int | None = None,
                     sub: nn.Module | None = None, outermost: bool = False):
            super().__init__()
            self.outermost = outermost
            down = nn.Conv2d(into or outer, inner, 4, stride=2, padding=1)
            if outermost:
                layers = [down, sub, nn.ReLU(True),
                          nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1), nn.Tanh()]
            elif sub is None:  # the innermost block
                layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True),
                          nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1),
                          nn.InstanceNorm2d(outer)]
            else:
                layers = [nn.LeakyReLU(0.2, True), down, nn.InstanceNorm2d(inner), sub,
                          nn.ReLU(True), nn.ConvTranspose2d(inner * 2, outer, 4, stride=2,
                                                            padding=1),
                          nn.InstanceNorm2d(outer)]
            self.model = nn.Sequential(*layers)

        def forward(self, x):
            return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)

    class UnetGenerator(nn.Module):
        """UnetGenerator(3, 1, num_downs=8, ngf=64)."""

        def __init__(self):
            super().__init__()
            block = SkipBlock(512, 512)
            for _ in range(3):
                block = SkipBlock(512, 512, sub=block)
            block = SkipBlock(256, 512, sub=block)
            block = SkipBlock(128, 256, sub=block)
            block = SkipBlock(64, 128, sub=block)
            self.model = SkipBlock(1, 64, into=3, sub=block, outermost=True)

        def forward(self, x):
            return self.model(x)

    return UnetGenerator()


def run(path: Path, rgb: np.ndarray, device: str) -> np.ndarray:
    """White lines on black, the size of `rgb`."""
    import torch

    net = loading.network(path, device, build, "anime line art (pix2pix U-Net)")
    height, width = rgb.shape[:2]
    dh, dw = loading.detect_size(height, width)
    fed = loading.resized(loading.resized(rgb, dh, dw), -(-dh // _MULTIPLE) * _MULTIPLE,
                          -(-dw // _MULTIPLE) * _MULTIPLE, cubic=True)
    with torch.inference_mode():
        drawing = net(loading.tensor(fed, device, 1 / 127.5, -1.0))[0, 0] * 127.5 + 127.5
    drawing = loading.resized(drawing.float().cpu().numpy(), dh, dw, cubic=True).clip(0, 255)
    return loading.as_rgb(255.0 - drawing, height, width)
