"""Make the comparison images that docs/ shows (run from the repo root):

    .venv/bin/python tools/doc_images.py

docs/images/inpaint_colour_match.png: the inpainting paste-back without and
with colour matching. A real model's output cannot be produced here (no
weights), so the "generated" picture is the original re-rendered with the
kind of drift a VAE round trip and a different palette cause (a warm shift,
lower contrast, softer detail) plus new content inside the mask. The pasting
code is the product's own (artstudio.diffusion.masking).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from artstudio.diffusion.masking import colour_match, composite, feathered_alpha, ring

OUT = Path("docs/images")


def scene(w: int = 320, h: int = 240) -> np.ndarray:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([90 + 80 * yy / h, 140 + 40 * xx / w, 200 - 90 * yy / h], -1)
    rgb += rng.normal(0, 6, rgb.shape)
    hills = yy > 150 + 20 * np.sin(xx / 35)
    rgb[hills] = np.stack([60 + 0 * xx[hills], 120 + 30 * np.sin(xx[hills] / 9),
                           60 + 0 * xx[hills]], -1) + rng.normal(0, 10, (hills.sum(), 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def drifted(original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    g = original.astype(np.float32)
    g = cv2.GaussianBlur(g, (3, 3), 0)
    g = (g - 128) * 0.85 + 128 + np.array([18, 6, -14], np.float32)  # warm, flatter
    image = Image.fromarray(np.clip(g, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((130, 70, 210, 150), fill=(245, 205, 120))  # the new content: a sun
    return np.asarray(image)


def seam_error(image: np.ndarray, original: np.ndarray, mask: np.ndarray) -> float:
    """Mean colour step across the mask edge: ring outside vs ring inside."""
    outside = ring(mask, 3)
    inside = ring(1 - mask, 3) & (mask > 0)
    return float(np.abs(image[inside].mean(0) - original[outside].mean(0)).mean())


def main() -> None:
    original = scene()
    mask = np.zeros(original.shape[:2], np.float32)
    cv2.circle(mask, (170, 110), 70, 1.0, -1)
    generated = drifted(original, mask)
    alpha = feathered_alpha(mask, 6)
    plain = composite(original, generated, alpha)
    matched = composite(original, colour_match(generated, original, mask), alpha)
    tiles = [original, plain, matched]
    labels = ["original", f"pasted as generated (seam {seam_error(plain, original, mask):.1f})",
              f"colour matched (seam {seam_error(matched, original, mask):.1f})"]
    h, w = original.shape[:2]
    sheet = Image.new("RGB", (3 * w + 20, h + 22), (40, 40, 44))
    draw = ImageDraw.Draw(sheet)
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        sheet.paste(Image.fromarray(tile), (i * (w + 10), 22))
        draw.text((i * (w + 10) + 4, 5), label, fill=(230, 230, 230))
    OUT.mkdir(parents=True, exist_ok=True)
    sheet.save(OUT / "inpaint_colour_match.png", optimize=True)
    print("seam error (mean level step at the mask edge):", labels[1:], sep="\n  ")


if __name__ == "__main__":
    main()
