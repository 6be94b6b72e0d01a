"""The streaming PNG writer: any split into row blocks decodes to the same
pixels, and a stream that ends early or has the wrong width is an error."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from artstudio.batch.png_rows import write_png_rows


def picture(h: int, w: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(channels)
    image = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    image[: h // 2] = np.linspace(0, 255, w).astype(np.uint8)[None, :, None]  # smooth part
    return image


@pytest.mark.parametrize("channels,mode", [(3, "RGB"), (4, "RGBA")])
def test_blocks_of_any_size_decode_to_the_same_pixels(channels, mode):
    image = picture(150, 67, channels)
    buf = io.BytesIO()
    write_png_rows(buf, 67, 150, channels, [image[:1], image[1:1], image[1:90], image[90:]])
    with Image.open(io.BytesIO(buf.getvalue())) as back:
        assert back.mode == mode
        assert np.array_equal(np.asarray(back), image)


def test_rgba_blocks_can_be_written_as_rgb():
    image = picture(20, 30, 4)
    buf = io.BytesIO()
    write_png_rows(buf, 30, 20, 3, [image])
    with Image.open(io.BytesIO(buf.getvalue())) as back:
        assert back.mode == "RGB" and np.array_equal(np.asarray(back), image[..., :3])


def test_smooth_images_compress():
    image = np.repeat(np.linspace(0, 255, 512).astype(np.uint8)[None, :, None], 256, 0)
    image = np.repeat(image, 3, 2)
    buf = io.BytesIO()
    write_png_rows(buf, 512, 256, 3, [image])
    assert len(buf.getvalue()) < image.nbytes / 50


@pytest.mark.parametrize("blocks", [
    lambda im: [im[:10]],                      # too few rows
    lambda im: [im, im[:1]],                    # too many
    lambda im: [im[:, :5]],                     # wrong width
])
def test_wrong_rows_are_refused(blocks):
    image = picture(20, 8, 3)
    with pytest.raises(ValueError):
        write_png_rows(io.BytesIO(), 8, 20, 3, blocks(image))
