"""Super-resolution files that spandrel recognises (ESRGAN, Real-ESRGAN,
compact SRVGG, SwinIR, HAT, ...), loaded without running anything in them.

Model files are read through `safe_load` (safetensors, or pickles with
`weights_only=True` only) and handed to spandrel as a state dict, so nothing
in a file can run code. The tile side follows the free memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import estimate_size, shared_cache
from artstudio.engine.network_building import builds_networks
from artstudio.upscale.tiler import run_alpha_as_grey, tile_for_memory

if TYPE_CHECKING:
    from artstudio.engine.cancel import CancelToken
    from artstudio.upscale.upscaling import UpscaleOptions


@dataclass
class SpandrelUpscaler:
    """A spandrel model as a `protocol.Upscaler`."""

    descriptor: Any  # spandrel ImageModelDescriptor
    device: str
    dtype: str
    path: Path

    def with_options(self, options: UpscaleOptions,
                     cancel: CancelToken | None) -> SpandrelUpscaler:
        """The model set up for one run (a spandrel model has nothing to set)."""
        return self

    @property
    def scale(self) -> int:
        return int(self.descriptor.scale)

    @property
    def multiple_of(self) -> int:
        return max(1, int(self.descriptor.size_requirements.multiple_of))

    @property
    def minimum(self) -> int:
        return int(self.descriptor.size_requirements.minimum)

    @property
    def preferred_tile(self) -> int:
        params = sum(p.numel() for p in self.descriptor.model.parameters())
        return tile_for_memory(params, self.scale, self.multiple_of, self.device)

    @property
    def receptive_radius(self) -> int | None:
        """How far (input pixels) an output pixel sees, where the architecture
        makes that plain: compact SRVGG is only stride-1 convolutions and a
        pixel shuffle, so the sum of their half-kernels. None (unknown) for
        the others: attention windows and downsampling reach further."""
        if self.descriptor.architecture.id != "Compact":
            return None
        import torch

        return sum(conv.dilation[0] * (conv.kernel_size[0] - 1) // 2
                   for conv in self.descriptor.model.modules()
                   if isinstance(conv, torch.nn.Conv2d))

    def run(self, rgb: np.ndarray) -> np.ndarray:
        """One forward pass: HxWx3 float32 0..1 in, (sH)x(sW)x3 out."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
        x = x.to(self.device, getattr(torch, self.dtype))
        if self.device == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)  # as the weights (_load)
        with torch.inference_mode():
            y = self.descriptor(x)
        return y[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()

    def run_alpha(self, alpha: np.ndarray) -> np.ndarray:
        return run_alpha_as_grey(self, alpha)


def load_spandrel(path: Path, device: str = "auto", precision: str = "auto") -> SpandrelUpscaler:
    """Load (cached) a super-resolution file; anything spandrel does not know
    as an upscaler is refused with a message naming the file."""
    from artstudio.engine.devices import choose_device

    choice = choose_device(device, precision)
    key = ("upscaler", str(path.resolve()), choice.device, choice.dtype)
    return shared_cache().get(key, lambda: _load(path, choice),
                              size_of=lambda up: estimate_size(up.descriptor.model))


@builds_networks
def _load(path: Path, choice) -> SpandrelUpscaler:
    from spandrel import ImageModelDescriptor, ModelLoader, UnsupportedModelError

    from artstudio.model_files.safe_load import load_state_dict

    state = load_state_dict(path)  # refuses anything but plain tensors
    try:
        descriptor = ModelLoader().load_from_state_dict(state)
    except UnsupportedModelError as exc:
        raise UserFacingError(f"{path.name} is not an upscaler that Artstudio knows "
                              "(spandrel does not recognise its architecture).") from exc
    if not isinstance(descriptor, ImageModelDescriptor) or descriptor.purpose != "SR":
        raise UserFacingError(f"{path.name} is a {descriptor.architecture.name} model for "
                              f"{getattr(descriptor, 'purpose', 'another task')}, "
                              "not a super-resolution model.")
    dtype = choice.dtype
    if dtype == "float16" and not descriptor.supports_half:
        dtype = "float32"
    if dtype == "bfloat16" and not descriptor.supports_bfloat16:
        dtype = "float32"
    import torch

    descriptor.to(choice.torch_device, getattr(torch, dtype)).eval()
    if choice.device == "cpu":
        # oneDNN's convolutions run a third faster on channels-last tensors
        # here, with the same results (docs/benchmarks.md, bench/upscale_batch.py).
        descriptor.model.to(memory_format=torch.channels_last)
    return SpandrelUpscaler(descriptor, choice.device, dtype, path)

