"""Stable Diffusion's x4 upscaler (a diffusers folder), behind the same
interface as the spandrel upscalers, so it gets the same tiling, blending,
out-of-memory recovery, alpha and streaming to disk.

It is a diffusion model: it invents detail guided by a prompt, at a few
seconds per step and tile on a GPU. Tiles are 128 px of input (512 px out,
its training size); every tile uses the same seed, so the overlaps agree
closely and blend without seams. Alpha goes through Lanczos, not the model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import estimate_size, shared_cache
from artstudio.engine.network_building import builds_networks

TILE = 128


@dataclass(frozen=True)
class DiffusionUpscaleParams:
    prompt: str = ""
    negative_prompt: str = "blurry, jpeg artifacts"
    steps: int = 20
    guidance: float = 7.5
    noise_level: int = 20
    seed: int = 0


@dataclass
class DiffusionUpscaler:
    """The x4 pipeline as a `protocol.Upscaler`."""

    pipe: Any
    device: str
    dtype: str
    path: Path
    params: DiffusionUpscaleParams = DiffusionUpscaleParams()
    cancel: CancelToken | None = None
    scale: int = 4
    multiple_of: int = 8
    minimum: int = 16
    preferred_tile: int = TILE

    def with_options(self, options, cancel: CancelToken | None) -> DiffusionUpscaler:
        """This model with the prompt and settings of `options` (UpscaleOptions),
        refused when they are out of its range."""
        params = DiffusionUpscaleParams(prompt=options.prompt, steps=options.steps,
                                        noise_level=options.noise_level, seed=options.seed)
        top = int(self.pipe.config.get("max_noise_level", 350))
        if not 0 <= params.noise_level <= top:
            raise UserFacingError(f"The noise level must be between 0 and {top} for "
                                  f"{self.path.name}.")
        if params.steps < 1:
            raise UserFacingError("The upscaler needs at least one step.")
        return replace(self, params=params, cancel=cancel)

    def run(self, rgb: np.ndarray) -> np.ndarray:
        import torch
        from PIL import Image

        image = Image.fromarray((rgb.clip(0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
        generator = torch.Generator("cpu").manual_seed(self.params.seed)
        cancel = self.cancel

        def each_step(_step, _timestep, _latents) -> None:
            if cancel is not None:
                cancel.raise_if_cancelled()

        with torch.inference_mode():
            out = self.pipe(prompt=self.params.prompt, image=image,
                            negative_prompt=self.params.negative_prompt,
                            num_inference_steps=self.params.steps,
                            guidance_scale=self.params.guidance,
                            noise_level=self.params.noise_level, generator=generator,
                            output_type="np", callback=each_step, callback_steps=1)
        return np.asarray(out.images[0], np.float32)

    def run_alpha(self, alpha: np.ndarray) -> np.ndarray:
        """Alpha by Lanczos: a generative model would invent edges in it."""
        from PIL import Image

        h, w = alpha.shape
        size = (w * self.scale, h * self.scale)
        return np.asarray(Image.fromarray(alpha.astype(np.float32), "F").resize(
            size, Image.Resampling.LANCZOS)).clip(0, 1)


def is_diffusion_upscaler(path: Path) -> bool:
    if not (path.is_dir() and (path / "model_index.json").is_file()):
        return False
    from artstudio.model_files.identify import identify_diffusers_folder

    return identify_diffusers_folder(path).kind == "upscaler"


def load_diffusion_upscaler(path: Path, device: str = "auto",
                            precision: str = "auto") -> DiffusionUpscaler:
    """The x4 upscaler pipeline from a diffusers folder, cached like every model."""
    from artstudio.engine.devices import choose_device

    choice = choose_device(device, precision)
    key = ("sd-upscaler", str(path.resolve()), choice.device, choice.dtype)
    return shared_cache().get(key, lambda: _load(path, choice),
                              size_of=lambda up: estimate_size(up.pipe))


@builds_networks
def _load(path: Path, choice) -> DiffusionUpscaler:
    from artstudio.model_files.offline import offline_and_quiet

    offline_and_quiet()
    from diffusers import StableDiffusionUpscalePipeline

    try:
        # The checker blacks out tiles and costs 1.2 GB; artists judge their own work.
        pipe = StableDiffusionUpscalePipeline.from_pretrained(
            str(path), local_files_only=True, dtype=choice.torch_dtype, safety_checker=None,
            feature_extractor=None, requires_safety_checker=False)
    except (OSError, ValueError) as exc:
        raise UserFacingError(f"{path.name} could not be loaded as Stable Diffusion's x4 "
                              f"upscaler: {str(exc)[:300]}") from exc
    pipe.set_progress_bar_config(disable=True)
    if choice.device != "cpu":
        pipe.to(choice.torch_device)
    return DiffusionUpscaler(pipe, choice.device, choice.dtype, path)
