"""Draws the application icon (artstudio/data/icons/): a palette-blue tile with
a brush stroke and a spark, as PNG (Linux, the window), ICO (Windows) and ICNS
(macOS). Run it after changing the drawing; the files are committed."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parents[1] / "artstudio" / "data" / "icons"
SIZE = 1024


def draw() -> Image.Image:
    tile = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    # A vertical gradient from deep blue to violet, inside a rounded square.
    gradient = Image.new("RGBA", (SIZE, SIZE))
    pixels = gradient.load()
    for y in range(SIZE):
        t = y / (SIZE - 1)
        colour = (int(38 + 90 * t), int(70 - 20 * t), int(160 + 40 * t), 255)
        for x in range(SIZE):
            pixels[x, y] = colour
    mask = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(mask).rounded_rectangle((40, 40, SIZE - 40, SIZE - 40), radius=200, fill=255)
    tile.paste(gradient, (0, 0), mask)

    # The stroke: overlapping discs along a curve, warm at one end, cool at the other.
    stroke = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(stroke)
    steps = 120
    for i in range(steps):
        t = i / (steps - 1)
        x = 200 + 600 * t
        y = 700 - 420 * t + 260 * (t - 0.5) ** 2 * 4 * (1 - t)
        r = 60 + 50 * (1 - abs(2 * t - 1))
        colour = (255, int(200 - 120 * t), int(60 + 160 * t), 255)
        pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    tile.alpha_composite(stroke.filter(ImageFilter.GaussianBlur(3)))

    # The spark: a four-pointed star, the generative half of the app.
    spark = ImageDraw.Draw(tile)
    cx, cy, long, short = 760, 260, 150, 34
    spark.polygon([(cx, cy - long), (cx + short, cy - short), (cx + long, cy),
                   (cx + short, cy + short), (cx, cy + long), (cx - short, cy + short),
                   (cx - long, cy), (cx - short, cy - short)], fill=(255, 255, 240, 255))
    return tile


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon = draw()
    icon.resize((256, 256), Image.Resampling.LANCZOS).save(OUT / "artstudio.png")
    icon.save(OUT / "artstudio.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128),
                                             (256, 256)])
    icon.save(OUT / "artstudio.icns")


if __name__ == "__main__":
    main()
