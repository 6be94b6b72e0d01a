"""Step previews: a fixed 4-to-3 linear map of the latents, or TAESD.

No VAE decode: a 64x64 latent becomes a blurry but recognisable 64x64 RGB
image in well under a millisecond. The factors are the widely used
approximations for the SD1/SD2 and SDXL latent spaces (fitted by the ComfyUI
authors against real decodes).
"""

from __future__ import annotations

from typing import Any

SD1_FACTORS = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
SDXL_FACTORS = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
SDXL_BIAS = (0.1084, -0.0175, -0.0011)


def latents_to_rgb(latents: Any, family: str = "sd1", min_side: int = 128):
    """The first latent of a batch (torch tensor [B,4,h,w]) as a small PIL image,
    enlarged so its shorter side is at least `min_side`."""
    import numpy as np
    import torch
    from PIL import Image

    lat = latents[0].detach().to("cpu", torch.float32)
    if lat.shape[0] != 4:
        raise ValueError(f"expected 4 latent channels, got {lat.shape[0]}")
    xl = family == "sdxl"
    factors = torch.tensor(SDXL_FACTORS if xl else SD1_FACTORS)
    rgb = torch.einsum("chw,cr->hwr", lat, factors)
    if xl:
        rgb = rgb + torch.tensor(SDXL_BIAS)
    rgb = ((rgb + 1.0) / 2.0).clamp(0, 1)
    arr = (rgb.numpy() * 255).round().astype(np.uint8)
    image = Image.fromarray(arr, "RGB")
    h, w = arr.shape[:2]
    scale = max(1, -(-min_side // max(1, min(h, w))))
    if scale > 1:
        image = image.resize((w * scale, h * scale), Image.Resampling.BILINEAR)
    return image


# ---- TAESD: a tiny real decoder, when the artist has one -------------------------

TAESD_CLASS = "AutoencoderTiny"


def _taesd_family(folder) -> str:
    return "sdxl" if "xl" in folder.as_posix().lower() else "sd1"


def find_taesd(roots, family: str, max_depth: int = 4):
    """A TAESD folder (diffusers AutoencoderTiny: config.json + weights) for the
    latent family, in the model folders or the Hugging Face cache. SDXL's is
    told apart by its name (taesdxl); SD1 and SD2 share a latent space."""
    import json
    from pathlib import Path

    wanted = "sdxl" if family == "sdxl" else "sd1"
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
            folder = config.parent
            if data.get("_class_name") == TAESD_CLASS and _taesd_family(folder) == wanted:
                return folder
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
