"""Opening ordinary images: conversions with notes, EXIF, corrupt files, bombs."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from artstudio.document import (
    DocumentFileError,
    convert,
    export_image,
    load_image,
    open_document,
)
from artstudio.engine.errors import UserFacingError


def png_rgb16(path, rgb16: np.ndarray) -> None:
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow cannot write one)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\0" + rgb16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2,
                                                                         0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_rgba_png_is_exact(tmp_path):
    px = np.random.default_rng(0).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    Image.fromarray(px, "RGBA").save(tmp_path / "a.png")
    out, notes = load_image(tmp_path / "a.png")
    assert np.array_equal(out, px) and notes == []


def test_16bit_rgb_png(tmp_path):
    png_rgb16(tmp_path / "deep.png", np.full((2, 3, 3), 40000, np.uint16))
    out, notes = load_image(tmp_path / "deep.png")
    assert tuple(out[0, 0]) == (156, 156, 156, 255)
    assert any("16-bit" in n for n in notes)


def test_16bit_greyscale(tmp_path):
    Image.fromarray(np.full((2, 2), 65535, np.uint16)).save(tmp_path / "g16.png")
    out, notes = load_image(tmp_path / "g16.png")
    assert tuple(out[0, 0]) == (255, 255, 255, 255)
    assert any("16-bit" in n for n in notes)


def test_greyscale_and_palette_with_transparency(tmp_path):
    Image.fromarray(np.full((2, 2), 77, np.uint8), "L").save(tmp_path / "g.png")
    out, notes = load_image(tmp_path / "g.png")
    assert tuple(out[1, 1]) == (77, 77, 77, 255) and any("greyscale" in n for n in notes)

    pal = Image.new("P", (2, 1))
    pal.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    pal.save(tmp_path / "p.png", transparency=0)
    out, notes = load_image(tmp_path / "p.png")
    assert out[0, 0, 3] == 0 and tuple(out[0, 1]) == (0, 255, 0, 255)
    assert any("palette" in n for n in notes)


def test_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(tmp_path / "c.jpg", quality=100)
    out, notes = load_image(tmp_path / "c.jpg")
    r, g, b, a = (int(v) for v in out[2, 2])
    assert r > 230 and g < 30 and b < 30 and a == 255
    assert any("CMYK" in n for n in notes)


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (40, 20), (0, 0, 0))
    im.paste((255, 0, 0), (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    im.save(tmp_path / "r.jpg", exif=exif, quality=100, subsampling=0)
    out, notes = load_image(tmp_path / "r.jpg")
    assert out.shape == (40, 20, 4)
    assert out[2, 17, 0] > 200 and out[2, 2, 0] < 60  # top-left red moved to top-right
    assert any("EXIF" in n for n in notes)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF"])
def test_formats_open(tmp_path, fmt):
    path = tmp_path / f"x.{fmt.lower()}"
    Image.new("RGB", (3, 2), (10, 20, 30)).save(path, fmt)
    doc, _ = open_document(path)
    assert doc.size == (3, 2) and len(doc.layers) == 1 and not doc.modified
    assert not doc.can_undo


def _bad_files(tmp_path):
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (1, 2, 3)).save(good)
    data = good.read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "random.png").write_bytes(np.random.default_rng(1).bytes(500))
    (tmp_path / "empty.jpg").write_bytes(b"")
    return ["truncated.png", "random.png", "empty.jpg", "missing.png"]


def test_corrupt_files_raise_user_facing_errors_naming_the_file(tmp_path, doc):
    for name in _bad_files(tmp_path):
        with pytest.raises(UserFacingError) as info:
            open_document(tmp_path / name)
        assert name in str(info.value)
        assert isinstance(info.value, DocumentFileError)


def test_converting_a_corrupt_file_loses_nothing(tmp_path, doc):
    """The bad input and an existing output are both left exactly as they were."""
    existing = tmp_path / "existing.png"
    export_image(doc, existing)
    kept = existing.read_bytes()
    for name in _bad_files(tmp_path):
        source = tmp_path / name
        before = source.read_bytes() if source.exists() else None
        with pytest.raises(DocumentFileError, match=name.replace(".", r"\.")):
            convert(source, existing)
        assert (source.read_bytes() if source.exists() else None) == before
        assert existing.read_bytes() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "empty.jpg", "existing.png", "good.png", "random.png", "truncated.png"]


def test_decompression_bomb_limit(tmp_path):
    Image.new("L", (2000, 1000)).save(tmp_path / "big.png")
    with pytest.raises(UserFacingError, match=r"big\.png.*megapixels"):
        open_document(tmp_path / "big.png", max_megapixels=1)
    doc, _ = open_document(tmp_path / "big.png", max_megapixels=3)
    assert doc.size == (2000, 1000)
