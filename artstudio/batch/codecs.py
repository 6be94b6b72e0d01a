"""Reading an input and writing an output for the batch: decode to RGBA
through the document reader (EXIF, 16-bit, CMYK, bomb guard), encode by
format, and write-then-rename so no partial file is ever visible."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from artstudio.batch import fast_png
from artstudio.batch.png_rows import write_png_rows
from artstudio.document.io_images import load_image
from artstudio.document.save import atomic_write


def decode(path: Path, max_megapixels: float) -> np.ndarray:
    """RGBA uint8 pixels of an image file; DocumentFileError naming the file
    (and its problem) when it cannot be read or is too large to open safely."""
    rgba, _notes = load_image(path, max_megapixels)
    return rgba


PngLevel = int | str  # a zlib level 0-9, or fast_png.FAST


def stream_level(png_level: PngLevel) -> int:
    """The zlib level of the streaming writer: fpng needs the whole image, so
    a streamed result asked for "fast" gets zlib's fastest level instead."""
    return 1 if png_level == fast_png.FAST else int(png_level)


def encode(rgba: np.ndarray, fmt: str, quality: int = 92, png_level: PngLevel = 3,
           background: tuple[int, int, int] = (255, 255, 255),
           text: dict[str, str] | None = None) -> bytes:
    """File bytes for RGBA pixels. PNG and WebP keep alpha; JPEG has none, so
    translucent pixels are flattened over `background` (white, like Export).
    PNG level 3 compresses within a few percent of level 6 at about twice
    the speed, which matters when a batch writes thousands of files; "fast"
    (fpng) is far cheaper again for somewhat larger files (fast_png.py).
    `text`: PNG text chunks (what made the image), ignored by JPEG and WebP."""
    buf = io.BytesIO()
    if fmt == "jpg":
        if (rgba[..., 3] < 255).any():
            a = rgba[..., 3:4].astype(np.float32) / 255.0
            bg = np.asarray(background, np.float32)
            rgb = (rgba[..., :3] * a + bg * (1.0 - a) + 0.5).astype(np.uint8)
        else:
            rgb = np.ascontiguousarray(rgba[..., :3])
        Image.fromarray(rgb, "RGB").save(buf, "JPEG", quality=int(quality))
    elif fmt == "webp":
        Image.fromarray(rgba, "RGBA").save(buf, "WEBP", quality=int(quality))
    elif fmt == "png":
        opaque = bool((rgba[..., 3] == 255).all())
        pixels = np.ascontiguousarray(rgba[..., :3]) if opaque else rgba
        if png_level == fast_png.FAST:
            return fast_png.encode_fast(pixels, text)
        image = Image.fromarray(pixels, "RGB" if opaque else "RGBA")
        image.save(buf, "PNG", compress_level=int(png_level), pnginfo=png_text(text))
    else:
        raise ValueError(f"unknown output format {fmt!r}; use png, jpg or webp")
    return buf.getvalue()


class RowSource(Protocol):
    """A result made while it is written (an upscale too large to hold):
    RGBA uint8 row blocks from the top down. `opaque` says the alpha is all
    255, so PNG can store RGB."""

    width: int
    height: int
    opaque: bool

    def rows(self) -> Iterator[np.ndarray]: ...

    def to_array(self) -> np.ndarray: ...


def is_row_source(result: object) -> bool:
    return not isinstance(result, np.ndarray) and hasattr(result, "rows")


def gathered(source: RowSource) -> np.ndarray:
    """A row source's rows in one array, its work done on the way."""
    out = None
    top = 0
    for block in source.rows():
        if out is None:
            out = np.empty((source.height, source.width, block.shape[2]), np.uint8)
        out[top:top + len(block)] = block
        top += len(block)
    if out is None or top != source.height:
        raise ValueError(f"got {top} rows for an image {source.height} rows high")
    return out


def png_text(text: dict[str, str] | None) -> PngInfo | None:
    if not text:
        return None
    info = PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value)
    return info


def write_output(result: np.ndarray | RowSource, target: Path, fmt: str, quality: int = 92,
                 png_level: PngLevel = 3, text: dict[str, str] | None = None) -> None:
    """Encode and write atomically (a temporary dot-file renamed into place).
    A row source is streamed into a PNG band by band; JPEG and WebP encoders
    need the whole image, so it is gathered first for those."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_row_source(result):
        if fmt != "png":
            result = result.to_array()
        else:
            channels = 3 if result.opaque else 4
            atomic_write(target, lambda fh: write_png_rows(
                fh, result.width, result.height, channels, result.rows(),
                stream_level(png_level), text))
            return
    data = encode(result, fmt, quality, png_level, text=text)
    atomic_write(target, lambda fh: fh.write(data))
