"""A PNG writer that takes the image as bands of rows, so a result larger
than memory (a 16384 px upscale) never has to exist whole.

Pillow and OpenCV only encode a complete array. PNG itself is a zlib stream
of filtered rows, so rows can be filtered and compressed as they come. Each
row uses the Paeth filter (the best single choice for photographs and
paintings), computed with numpy a row at a time.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from typing import BinaryIO

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
IDAT_BYTES = 1 << 20  # compressed data is flushed in chunks of about this size
PAETH = 4
FILTER_ROWS = 64  # rows filtered at once: int16 temporaries stay small


def chunk_bytes(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type and data."""
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _chunk(out: BinaryIO, kind: bytes, data: bytes) -> None:
    out.write(chunk_bytes(kind, data))


def text_chunks(text: dict[str, str] | None) -> bytes:
    """Uncompressed UTF-8 text chunks (iTXt): keyword, no compression, no
    language tag, no translated keyword, the text."""
    return b"".join(chunk_bytes(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0"
                                + value.encode("utf-8")) for key, value in (text or {}).items())


def _paeth_rows(block: np.ndarray, previous: np.ndarray) -> bytes:
    """Paeth-filtered rows of `block` (uint8, rows x width x channels), each
    with its filter-type byte; `previous` is the row above the block."""
    rows, width, channels = block.shape
    line = width * channels
    raw = block.reshape(rows, line).astype(np.int16)
    up = np.vstack([previous.reshape(1, line).astype(np.int16), raw[:-1]])
    left = np.zeros_like(raw)
    left[:, channels:] = raw[:, :-channels]
    up_left = np.zeros_like(raw)
    up_left[:, channels:] = up[:, :-channels]
    p = left + up - up_left
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - up_left)
    predictor = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
    filtered = ((raw - predictor) & 0xFF).astype(np.uint8)
    out = np.empty((rows, line + 1), np.uint8)
    out[:, 0] = PAETH
    out[:, 1:] = filtered
    return out.tobytes()


def write_png_rows(out: BinaryIO, width: int, height: int, channels: int,
                   blocks: Iterable[np.ndarray], level: int = 3,
                   text: dict[str, str] | None = None) -> None:
    """Write an 8-bit RGB (3 channels) or RGBA (4) PNG from row blocks given
    top to bottom; ValueError if they do not add up to `height` rows.
    `text`: uncompressed UTF-8 text chunks (iTXt) written before the pixels."""
    if channels not in (3, 4):
        raise ValueError("PNG rows must have 3 or 4 channels")
    colour_type = 2 if channels == 3 else 6
    out.write(SIGNATURE)
    _chunk(out, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    out.write(text_chunks(text))
    compressor = zlib.compressobj(level)
    previous = np.zeros((width, channels), np.uint8)
    pending = bytearray()
    written = 0
    for block in blocks:
        block = np.ascontiguousarray(block[..., :channels])
        if block.shape[1:] != (width, channels) or written + len(block) > height:
            raise ValueError(f"a block of shape {block.shape} does not fit a "
                             f"{width}x{height} image at row {written}")
        if not len(block):
            continue
        for top in range(0, len(block), FILTER_ROWS):
            part = block[top:top + FILTER_ROWS]
            pending += compressor.compress(_paeth_rows(part, previous))
            previous = part[-1]
        written += len(block)
        while len(pending) >= IDAT_BYTES:
            _chunk(out, b"IDAT", bytes(pending[:IDAT_BYTES]))
            del pending[:IDAT_BYTES]
    if written != height:
        raise ValueError(f"got {written} rows for an image {height} rows high")
    pending += compressor.flush()
    if pending:
        _chunk(out, b"IDAT", bytes(pending))
    _chunk(out, b"IEND", b"")
