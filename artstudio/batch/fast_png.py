"""The fast PNG writer: fpng (`pip install 'artstudio[fast]'`), about 17x
less CPU than zlib level 3 for files about 9 % larger (docs/benchmarks.md),
the same pixels. A batch asks for it with `png_level="fast"`.

fpng writes no text chunks, so the batch's own (what made the image) are
put in after the header, where a PNG reader expects them."""

from __future__ import annotations

import numpy as np

from artstudio.batch.png_rows import text_chunks
from artstudio.engine.errors import UserFacingError

FAST = "fast"  # BatchSettings.png_level (and --png-level) for this writer
HEADER_END = 8 + 25  # the signature, then IHDR: length, type, 13 bytes, CRC


def available() -> bool:
    try:
        import fpng  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    """UserFacingError, before any work, when the fast writer is missing."""
    if not available():
        raise UserFacingError("the fast PNG writer needs the fpng package "
                              "(pip install 'artstudio[fast]'); or give --png-level 1 to 9")


def encode_fast(pixels: np.ndarray, text: dict[str, str] | None = None) -> bytes:
    """PNG bytes of an RGB or RGBA uint8 array (h, w, 3 or 4) through fpng."""
    import fpng

    data = fpng.from_ndarray(np.ascontiguousarray(pixels))
    if data[12:16] != b"IHDR":
        raise ValueError("fpng wrote no PNG header")
    return data[:HEADER_END] + text_chunks(text) + data[HEADER_END:]
