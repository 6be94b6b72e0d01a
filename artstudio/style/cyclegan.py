"""CycleGAN painters: the ResNet generator of the public CycleGAN/pix2pix
release, rebuilt from its published architecture, loaded from a state dict
without unpickling anything but tensors, and run in overlapping tiles
through the upscale tiler (at scale 1).

The released generators are `state_dict`s whose keys index one flat
`nn.Sequential` called `model`:

    0 pad(3)  1 conv7x7(in->ngf)  2 norm  3 relu            stem
    4 conv3x3/2  5 norm  6 relu  7 conv3x3/2  8 norm  9 relu  two downsamplings
    10 .. 10+n-1   residual blocks (`model.10.conv_block.1.weight`, ...)
    then two transposed-conv upsamplings (conv, norm, relu each),
    pad(3), conv7x7(ngf->out), tanh.

Everything the loader needs (block count, width, channels, norm, dropout)
is read from the key names and tensor shapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.engine.network_building import builds_networks

DEFAULT_TILE = 512
TILE_OVERLAP = 64
_BLOCK_KEY = re.compile(r"^model\.(\d+)\.conv_block\.(\d+)\.weight$")


class NotACycleGANError(UserFacingError):
    """The weights are not a CycleGAN ResNet generator."""


@dataclass(frozen=True)
class GeneratorShape:
    """The architecture of a ResNet generator, as read from its weights."""

    in_channels: int = 3
    out_channels: int = 3
    ngf: int = 64
    n_blocks: int = 9
    norm: str = "instance"  # "instance" (the release default) or "batch"
    affine: bool = False  # InstanceNorm with learned scale and shift
    dropout: bool = False  # blocks trained with dropout have one more layer

    @property
    def use_bias(self) -> bool:
        # The release gives convolutions a bias exactly when the norm has no
        # learned shift of its own (InstanceNorm), none before BatchNorm.
        return self.norm != "batch"


def _torch():
    import torch

    return torch


def build_generator(shape: GeneratorShape):
    """A ResnetGenerator with the release's layer order (so its state-dict
    keys match the published files)."""
    torch = _torch()
    nn = torch.nn

    def norm(ch: int):
        if shape.norm == "batch":
            return nn.BatchNorm2d(ch)
        return nn.InstanceNorm2d(ch, affine=shape.affine, track_running_stats=False)

    class ResnetBlock(nn.Module):
        def __init__(self, dim: int):
            super().__init__()
            layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=shape.use_bias),
                      norm(dim), nn.ReLU(True)]
            if shape.dropout:
                layers.append(nn.Dropout(0.5))
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=shape.use_bias),
                       norm(dim)]
            self.conv_block = nn.Sequential(*layers)

        def forward(self, x):
            return x + self.conv_block(x)

    class ResnetGenerator(nn.Module):
        def __init__(self):
            super().__init__()
            ngf, bias = shape.ngf, shape.use_bias
            layers: list[Any] = [nn.ReflectionPad2d(3),
                                 nn.Conv2d(shape.in_channels, ngf, 7, bias=bias),
                                 norm(ngf), nn.ReLU(True)]
            for i in range(2):  # downsampling: ngf -> 2 ngf -> 4 ngf
                ch = ngf * 2**i
                layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1, bias=bias),
                           norm(ch * 2), nn.ReLU(True)]
            layers += [ResnetBlock(ngf * 4) for _ in range(shape.n_blocks)]
            for i in range(2):  # upsampling: 4 ngf -> 2 ngf -> ngf
                ch = ngf * 2 ** (2 - i)
                layers += [nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1,
                                              output_padding=1, bias=bias),
                           norm(ch // 2), nn.ReLU(True)]
            layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, shape.out_channels, 7),
                       nn.Tanh()]
            self.model = nn.Sequential(*layers)

        def forward(self, x):
            return self.model(x)

    return ResnetGenerator()


def infer_shape(state: dict[str, Any], name: str = "model") -> GeneratorShape:
    """Read the architecture from state-dict keys and shapes, or say clearly
    why these weights are not a CycleGAN ResNet generator."""
    stem = state.get("model.1.weight")
    if stem is None or tuple(stem.shape)[2:] != (7, 7):
        raise NotACycleGANError(
            f"{name} is not a CycleGAN ResNet generator (no 7x7 'model.1.weight'); "
            "use a *_net_G_A.pth / latest_net_G.pth file from a CycleGAN release.")
    ngf, in_ch = int(stem.shape[0]), int(stem.shape[1])
    blocks, conv_layers = set(), set()
    for key, value in state.items():
        m = _BLOCK_KEY.match(key)
        if m:
            blocks.add(int(m.group(1)))
            if value.ndim == 4:  # convolutions, not an affine norm's weight
                conv_layers.add(int(m.group(2)))
    if not blocks or sorted(blocks) != list(range(10, 10 + len(blocks))):
        raise NotACycleGANError(f"{name}: the residual blocks are missing or not in sequence.")
    n_blocks = len(blocks)
    final = state.get(f"model.{10 + n_blocks + 7}.weight")
    if final is None:
        raise NotACycleGANError(f"{name}: the final 7x7 convolution is missing.")
    batch = "model.2.running_var" in state and "model.1.bias" not in state
    return GeneratorShape(
        in_channels=in_ch,
        out_channels=int(final.shape[0]),
        ngf=ngf,
        n_blocks=n_blocks,
        norm="batch" if batch else "instance",
        affine=not batch and "model.2.weight" in state,
        dropout=6 in conv_layers,  # the second conv moves from index 5 to 6
    )


def _strip_instance_stats(state: dict[str, Any], shape: GeneratorShape) -> dict[str, Any]:
    # Files saved by old PyTorch versions carry running stats for InstanceNorm,
    # which the current module does not have (the release drops them too).
    if shape.norm == "batch":
        return state
    unwanted = ("running_mean", "running_var", "num_batches_tracked")
    return {k: v for k, v in state.items() if not k.endswith(unwanted)}


@builds_networks
def load_generator(path: str | Path, device: str = "cpu"):
    """Load a CycleGAN generator (.pth/.pt via torch.load(weights_only=True),
    or .safetensors) onto `device`, in eval mode. A file that would need a
    full unpickle is refused (UnsafeModelError), never loaded."""
    from artstudio.model_files.safe_load import load_state_dict

    path = Path(path)
    state = load_state_dict(path)
    shape = infer_shape(state, path.name)
    net = build_generator(shape)
    try:
        net.load_state_dict(_strip_instance_stats(state, shape), strict=True)
    except RuntimeError as exc:
        raise NotACycleGANError(
            f"{path.name}: the weights do not fit a CycleGAN generator "
            f"({_first_mismatch(exc)})") from exc
    net.eval().requires_grad_(False)
    net.shape = shape  # what was detected, for logs and tests
    return net.to(device)


def _first_mismatch(exc: RuntimeError) -> str:
    # torch's message is a header line, then one line per missing, unexpected
    # or mis-shaped key: the first of those says what does not fit.
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = lines[1] if len(lines) > 1 else lines[0] if lines else "no detail"
    return detail if len(detail) <= 300 else detail[:297] + "..."


@dataclass
class GeneratorUpscaler:
    """A generator as a scale-1 `artstudio.upscale.protocol.Upscaler`, so it
    runs through the upscale tiler: blended overlaps with real context, and
    an out-of-memory error halves the tile instead of failing the image."""

    net: Any
    device: str = "cpu"
    preferred_tile: int = DEFAULT_TILE
    scale: int = 1
    multiple_of: int = 4  # the two stride-2 downsamplings must come back to the same size
    minimum: int = 8  # after them, the blocks' reflection pad needs 2 px

    def with_options(self, options: Any, cancel: CancelToken | None) -> GeneratorUpscaler:
        return self  # the style options were applied when the generator was chosen

    def run(self, rgb: np.ndarray) -> np.ndarray:
        torch = _torch()
        t = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
        with torch.inference_mode():
            out = self.net((t * 2 - 1).to(self.device))  # trained on -1..1, Tanh out
        return ((out[0, :3].float().cpu().numpy().transpose(1, 2, 0) + 1) * 0.5).clip(0, 1)

    def run_alpha(self, alpha: np.ndarray) -> np.ndarray:
        return alpha  # a painter changes colours, not coverage


def run_generator(net, rgb: np.ndarray, device: str = "cpu", tile: int = DEFAULT_TILE,
                  overlap: int = TILE_OVERLAP,
                  on_tile: Callable[[int, int], None] | None = None,
                  cancel: CancelToken | None = None) -> np.ndarray:
    """Apply the generator to an RGB float 0..1 image, in overlapping tiles
    blended over their overlap when the image is larger than `tile`. Tiles
    carry real neighbouring context, so instance normalisation sees similar
    statistics on both sides of a seam."""
    from artstudio.upscale.tiler import upscale_array

    report = None if on_tile is None else (lambda done, total, _message: on_tile(done, total))
    # No reflected border: instance norm would count it, and an image within
    # one tile runs whole, as the generator was trained.
    out = upscale_array(GeneratorUpscaler(net, device, tile), rgb, tile, overlap,
                        progress=report, cancel=cancel, border_context=False)
    return out.astype(np.float32) * np.float32(1 / 255)
