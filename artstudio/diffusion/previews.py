"""Step previews: a fixed linear map of the latents to RGB, or TAESD.

No VAE decode: a 64x64 latent becomes a blurry but recognisable 64x64 RGB
image in well under a millisecond. The factors of each latent space are in the
family registry (the widely used approximations the ComfyUI authors fitted
against real decodes).
"""

from __future__ import annotations

import re
from typing import Any

from artstudio.diffusion import families


def latents_to_rgb(latents: Any, family: str = "sd1", min_side: int = 128):
    """The first latent of a batch (torch tensor [B,C,h,w]) as a small PIL image
    through the family's 4-to-3 preview factors, enlarged so its shorter side is
    at least `min_side`."""
    import numpy as np
    import torch
    from PIL import Image

    space = families.family(family).latent
    lat = latents[0].detach().to("cpu", torch.float32)
    if lat.shape[0] != space.channels:
        raise ValueError(f"expected {space.channels} latent channels, got {lat.shape[0]}")
    rgb = torch.einsum("chw,cr->hwr", lat, torch.tensor(space.preview_factors))
    rgb = ((rgb + torch.tensor(space.preview_bias) + 1.0) / 2.0).clamp(0, 1)
    arr = (rgb.numpy() * 255).round().astype(np.uint8)
    image = Image.fromarray(arr, "RGB")
    h, w = arr.shape[:2]
    scale = max(1, -(-min_side // max(1, min(h, w))))
    if scale > 1:
        image = image.resize((w * scale, h * scale), Image.Resampling.BILINEAR)
    return image


# ---- TAESD: a tiny real decoder, when the artist has one -------------------------

TAESD_CLASS = "AutoencoderTiny"


def _decoder_name(folder) -> set[str]:
    """The words of a decoder folder's own name, or of its hub repository for a
    cache snapshot (models--madebyollin--taesdxl/snapshots/<rev> gives
    madebyollin, taesdxl): TAESD decoders of different latent spaces share one
    config, so only their names tell them apart."""
    name = folder.name
    if folder.parent.name == "snapshots" and folder.parent.parent.name.startswith("models--"):
        name = folder.parent.parent.name.removeprefix("models--")
    return set(re.split(r"[^a-z0-9]+", name.lower()))


def find_taesd(roots, family: str, max_depth: int = 4):
    """A TAESD folder (diffusers AutoencoderTiny: config.json + weights) for the
    family's latent space, in the model folders or the Hugging Face cache,
    known by the names the family's registry entry lists (taesd, taesdxl)."""
    import json
    from pathlib import Path

    space = families.family(family).latent
    # another latent space's names; Z-Image shares FLUX.1's VAE and so its decoder
    others = {n for f in families.FAMILIES if f.latent != space
              for n in f.latent.taesd_names} - set(space.taesd_names)
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for config in sorted(root.rglob("config.json")):
            if len(config.relative_to(root).parts) > max_depth + 1:
                continue
            try:
                data = json.loads(config.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            words = _decoder_name(config.parent)
            if (data.get("_class_name") == TAESD_CLASS
                    and data.get("latent_channels", 4) == space.channels
                    and words & set(space.taesd_names) and not words & others):
                return config.parent
    return None


_decoders: dict[str, Any] = {}


class TaesdPreview:
    """Decodes step latents with TAESD on the CPU: a sharp, true-colour preview
    for about the cost of one small convolution net per step."""

    def __init__(self, folder):
        self.folder = str(folder)

    def _decoder(self):
        decoder = _decoders.get(self.folder)
        if decoder is None:
            from diffusers import AutoencoderTiny

            from artstudio.engine.network_building import NETWORK_BUILDING

            with NETWORK_BUILDING:
                decoder = AutoencoderTiny.from_pretrained(self.folder, local_files_only=True)
            decoder = decoder.to("cpu", dtype=__import__("torch").float32).eval()
            _decoders.clear()  # one at a time: they are small, but keep memory flat
            _decoders[self.folder] = decoder
        return decoder

    def __call__(self, latents) -> Any:
        import numpy as np
        import torch
        from PIL import Image

        with torch.no_grad():
            lat = latents[:1].detach().to("cpu", torch.float32)
            rgb = self._decoder().decode(lat).sample[0]  # TAESD decodes scaled latents
        rgb = ((rgb.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()
        return Image.fromarray((rgb * 255).round().astype(np.uint8), "RGB")
