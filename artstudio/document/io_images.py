"""Reading ordinary image files (PNG, JPEG, WebP, BMP, TIFF) into RGBA arrays.

Whatever the file holds (16-bit, greyscale, palette, CMYK, EXIF-rotated)
comes back as straight RGBA uint8, with notes telling the artist what was
converted. Anything wrong with the file becomes a DocumentFileError naming it.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from artstudio.document.document import Document
from artstudio.document.errors import DocumentFileError
from artstudio.document.regular_files import open_regular

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
DEFAULT_MAX_MEGAPIXELS = 400

_ORIENTATION = 0x0112
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
                  IndexError, TypeError, KeyError)


def _allow_pixels(limit: int) -> None:
    # Pillow refuses images above twice MAX_IMAGE_PIXELS on its own; raise its
    # ceiling to ours (never lower it) so our limit, with a clear message, rules
    # up to twice the limit (beyond, see _bomb_reason).
    current = Image.MAX_IMAGE_PIXELS
    if current is not None and current < limit:
        Image.MAX_IMAGE_PIXELS = limit


def limit_in_pixels(max_megapixels: float) -> int:
    """The largest pixel count an image may have under `max_megapixels`."""
    return round(max_megapixels * 1_000_000)


def _megapixels(pixels: int, limit: int) -> str:
    # As many decimals as it takes not to print an image over the limit as
    # the limit itself: 20001 x 20000 is 400.02 megapixels, not 400.
    decimals = 1
    while decimals < 6 and round(pixels / 1e6, decimals) <= limit / 1e6:
        decimals += 1
    return f"{pixels / 1e6:.{decimals}f}"


def check_pixel_count(path: Path | str, width: int, height: int, max_megapixels: float) -> None:
    """Refuse an image of more than `max_megapixels` (decompression-bomb
    guard). Every reader calls this with the size from the file's header,
    before a single pixel is decoded or allocated."""
    pixels, limit = width * height, limit_in_pixels(max_megapixels)
    if pixels > limit:
        raise DocumentFileError(path, _over_limit(f"{width} x {height} pixels", pixels, limit,
                                                  max_megapixels))


def _over_limit(size: str, pixels: int, limit: int, max_megapixels: float) -> str:
    return (f"the image is {size} ({_megapixels(pixels, limit)} megapixels), over the "
            f"limit of {max_megapixels:g} megapixels. Raise the limit in Settings if you "
            "trust this file.")


_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def _bomb_reason(exc: Image.DecompressionBombError, max_megapixels: float) -> str:
    """Our limit's message for an image Pillow refused at open (over twice
    its own ceiling, so over ours too): Pillow's message quotes its ceiling,
    not the artist's limit, and its open hides the width and height."""
    limit = limit_in_pixels(max_megapixels)
    found = _BOMB_PIXELS.search(str(exc))
    if found is None:
        return (f"the image is over the limit of {max_megapixels:g} megapixels. Raise the "
                "limit in Settings if you trust this file.")
    pixels = int(found.group(1))
    return _over_limit(f"{pixels:,} pixels", pixels, limit, max_megapixels)


def _refuse_truncated() -> None:
    # Pillow's switch is process-wide, and some libraries turn it on; with it
    # on, a file cut short opens as a full-size image padded with zeros.
    ImageFile.LOAD_TRUNCATED_IMAGES = False


def decode_image(source: Path | str | BinaryIO, name: Path | str,
                 max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> tuple[np.ndarray, list[str]]:
    """Decode an image file or stream to straight RGBA uint8 (h, w, 4).

    `name` is the file named in errors. Returns (pixels, notes). The size is
    checked against `max_megapixels` from the header, before decoding; data
    cut short is an error, never an image padded with zeros.
    """
    _allow_pixels(limit_in_pixels(max_megapixels))
    _refuse_truncated()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise DocumentFileError(name, _bomb_reason(exc, max_megapixels)) from exc
    except UnidentifiedImageError as exc:
        raise DocumentFileError(name, "this is not an image file Artstudio can read") from exc
    except FileNotFoundError as exc:
        raise DocumentFileError(name, "the file does not exist") from exc
    except PermissionError as exc:
        raise DocumentFileError(name, "permission to read the file was denied") from exc
    except _DECODE_ERRORS as exc:
        raise DocumentFileError(name, f"the file could not be read ({exc})") from exc
    with im:
        check_pixel_count(name, im.width, im.height, max_megapixels)
        # Loading clears `tile`, which is the only place a 16-bit source shows.
        rawmode = str(im.tile[0].args) if im.tile else ""
        try:
            im.load()
            pixels, notes = _to_rgba(im, rawmode)
            frames = getattr(im, "n_frames", 1)
            if frames > 1:  # an animated GIF, WebP or PNG, a multi-page TIFF
                notes.append(f"only the first of its {frames} frames was opened; "
                             f"the other {frames - 1} were left out")
            return pixels, notes
        except Image.DecompressionBombError as exc:  # a TIFF tile, a WebP frame
            raise DocumentFileError(name, _bomb_reason(exc, max_megapixels)) from exc
        except MemoryError as exc:
            raise DocumentFileError(name, "not enough memory to open this image") from exc
        except _DECODE_ERRORS as exc:
            detail = str(exc) or type(exc).__name__
            raise DocumentFileError(
                name, f"the file is damaged or incomplete ({detail})") from exc


def _to_rgba(im: Image.Image, rawmode: str) -> tuple[np.ndarray, list[str]]:
    notes: list[str] = []
    if im.getexif().get(_ORIENTATION, 1) not in (1, None):
        im = ImageOps.exif_transpose(im)
        notes.append("rotated to match the camera's orientation (EXIF)")
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        data = np.asarray(im).astype(np.float64)
        # 16-bit files open as "I;16" or as 32-bit "I" holding 0..65535.
        grey = np.clip(data / 257.0 + 0.5, 0, 255).astype(np.uint8)
        notes.append("converted from 16-bit to 8-bit")
        return _grey_to_rgba(grey), notes
    if mode == "F":
        data = np.asarray(im, np.float64)
        scale = 255.0 if data.size and np.nanmax(data) <= 1.0 else 1.0
        grey = np.clip(np.nan_to_num(data) * scale + 0.5, 0, 255).astype(np.uint8)
        notes.append("converted from 32-bit floating point to 8-bit")
        return _grey_to_rgba(grey), notes
    if ";16" in rawmode:
        notes.append("converted from 16-bit to 8-bit")
    if mode == "CMYK":
        notes.append("CMYK converted to RGB (colours may shift)")
        im = im.convert("RGB")
    elif mode in ("L", "LA", "1", "La"):
        notes.append("greyscale converted to RGB")
    elif mode in ("P", "PA"):
        notes.append("palette image converted to RGB")
    elif mode in ("YCbCr", "LAB", "HSV"):
        notes.append(f"{mode} converted to RGB")
        im = im.convert("RGB")
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    rgba = np.array(im.convert("RGBA"), np.uint8)
    return np.ascontiguousarray(rgba), notes


def _grey_to_rgba(grey: np.ndarray) -> np.ndarray:
    out = np.empty((*grey.shape, 4), np.uint8)
    out[..., :3] = grey[..., None]
    out[..., 3] = 255
    return out


def load_image(path: Path | str, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
               ) -> tuple[np.ndarray, list[str]]:
    """Read an image file to straight RGBA uint8. Returns (pixels, notes).
    Only a regular file is opened: a folder, a named pipe or a device named
    like an image is a DocumentFileError saying what it is."""
    path = Path(path)
    with open_regular(path) as fh:
        return decode_image(fh, path, max_megapixels)


def document_from_image(path: Path | str, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
                        ) -> tuple[Document, list[str]]:
    """A new one-layer Document from an image file (never touches other documents).
    The document has no `path` (saving asks where to put the .ora)."""
    path = Path(path)
    pixels, notes = load_image(path, max_megapixels)
    doc = Document(pixels.shape[1], pixels.shape[0])
    doc.add_layer(pixels, name=path.stem or "Background")
    doc.clear_history()
    doc.mark_saved()
    return doc, notes


def encode_png(pixels: np.ndarray, compress_level: int = 6) -> bytes:
    """PNG bytes of an RGBA (h, w, 4) or greyscale (h, w) uint8 array."""
    mode = "RGBA" if pixels.ndim == 3 else "L"
    buf = io.BytesIO()
    Image.fromarray(pixels, mode).save(buf, "PNG", compress_level=compress_level)
    return buf.getvalue()
