"""Erasing without a prompt: the masked area is filled from its surroundings
(OpenCV's Telea or Navier-Stokes inpainting, or a LaMa network the artist
has). Unmasked pixels come back unchanged. No Qt, no diffusion model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from artstudio.diffusion import masking
from artstudio.engine.cancel import CancelToken
from artstudio.engine.errors import UserFacingError

ERASE_METHODS = ("telea", "navier-stokes")


def erased_area(mask: np.ndarray) -> np.ndarray:
    """The pixels an erase fills (boolean): the mask taken as hard, as every
    method here fills only where it is more than half set."""
    return mask > 0.5


def erase(image: np.ndarray, mask: np.ndarray, method: str = "telea",
          radius: int = 5) -> np.ndarray:
    """Remove the masked area without a model or a prompt (OpenCV inpainting).
    Unmasked pixels are returned unchanged."""
    import cv2

    flags = {"telea": cv2.INPAINT_TELEA, "navier-stokes": cv2.INPAINT_NS}
    if method not in flags:
        raise ValueError(f"unknown erase method {method!r}; use one of {ERASE_METHODS}")
    hard = erased_area(mask).astype(np.uint8) * 255
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    out = cv2.cvtColor(cv2.inpaint(bgr, hard, radius, flags[method]), cv2.COLOR_BGR2RGB)
    keep = hard == 0
    out[keep] = image[keep]
    return out


def erase_with_lama(image: np.ndarray, mask: np.ndarray, model_path: str, device: str = "cpu"
                    ) -> np.ndarray:
    """Erase with a LaMa network loaded through spandrel from weights read by
    the safe loader (never spandrel's own pickle loading)."""
    import torch
    from spandrel import MaskedImageModelDescriptor, ModelLoader

    from artstudio.engine.network_building import NETWORK_BUILDING
    from artstudio.model_files import safe_load

    state = safe_load.load_state_dict(model_path)
    with NETWORK_BUILDING:
        model = ModelLoader().load_from_state_dict(state)
    if not isinstance(model, MaskedImageModelDescriptor):
        raise UserFacingError(f"{model_path} is not an inpainting (LaMa-like) model.")
    model.to(device).eval()
    h, w = image.shape[:2]
    mult = 8
    ph, pw = (-h) % mult, (-w) % mult
    img = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect")
    msk = np.pad(erased_area(mask).astype(np.float32), ((0, ph), (0, pw)), mode="reflect")
    with torch.inference_mode():
        t_img = torch.from_numpy(img).permute(2, 0, 1)[None].float().div(255).to(device)
        t_msk = torch.from_numpy(msk)[None, None].to(device)
        out = model(t_img, t_msk)[0].permute(1, 2, 0).clamp(0, 1).mul(255).round()
    result = out.byte().cpu().numpy()[:h, :w]
    keep = ~erased_area(mask)
    result[keep] = image[keep]
    return result


@dataclass(frozen=True)
class EraseParams:
    image: Any
    mask: Any
    method: str = "telea"  # "telea", "navier-stokes" or "lama"
    lama_model: str | None = None  # a LaMa file for method "lama"
    radius: int = 5
    device: str = "cpu"


def erase_run(params: EraseParams, progress, cancel: CancelToken):
    """Remove the masked area (no prompt). Returns a PIL image; unmasked pixels
    are unchanged. A CPU job: submit it to the pool lane unless LaMa runs on GPU."""
    from PIL import Image

    image = masking.to_rgb_array(params.image)
    mask = masking.to_mask_array(params.mask, (image.shape[1], image.shape[0]))
    progress(0, 1, "Erasing")
    cancel.raise_if_cancelled()
    if params.method == "lama":
        if not params.lama_model:
            raise UserFacingError("Choose a LaMa model file to erase with LaMa.")
        out = erase_with_lama(image, mask, params.lama_model, params.device)
    else:
        out = erase(image, mask, params.method, params.radius)
    progress(1, 1, "Done")
    return Image.fromarray(out, "RGB")
