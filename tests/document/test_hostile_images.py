"""Images whose header lies: a size far larger than the data (a 1 KB body
under a 20000 x 20000 header), data cut short, a size over the limit. Every
reader (open, the batch, export, .ora layers) refuses them with a message
naming the file, checks the size from the header before any pixel is
decoded, and never pads missing data with zeros."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from artstudio.batch.codecs import decode
from artstudio.cli import main
from artstudio.document import Document, DocumentFileError, open_document, read_ora
from artstudio.document.io_images import load_image
from artstudio.document.save import save_document


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def lying_png(width: int, height: int, body: int = 1024) -> bytes:
    """An RGBA PNG header of width x height over `body` bytes of image data."""
    data = zlib.compress(bytes(np.random.default_rng(0).integers(0, 255, 4 * body,
                                                                  dtype=np.uint8)))[:body]
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


def ora_with_layer(path, layer_png: bytes, size=(64, 48)):
    """A valid .ora whose one layer image is replaced by `layer_png`."""
    doc = Document(*size)
    doc.add_layer(np.full((size[1], size[0], 4), 200, np.uint8))
    save_document(doc, path)
    with zipfile.ZipFile(path) as zf:
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in parts:
            zf.writestr(info, layer_png if info.filename.startswith("data/") else data)
    return path


@pytest.fixture
def never_decoded(monkeypatch):
    """Records every pixel decode: an image refused by its header must not
    reach one (that is where Pillow allocates the whole image)."""
    calls = []
    real = ImageFile.ImageFile.load

    def load(self):
        calls.append(self.size)
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return calls


@pytest.fixture
def truncation_allowed_elsewhere(monkeypatch):
    # Libraries turn Pillow's process-wide switch on; our readers must not care.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)


def _read_png(path, limit):
    return load_image(path, limit)[0]


def _read_batch(path, limit):
    return decode(path, limit)


def _open(path, limit):
    return open_document(path, limit)[0].layers[0].pixels


def _ora_layer(path, limit):
    ora = ora_with_layer(path.with_suffix(".ora"), path.read_bytes())
    return read_ora(ora, limit)[0].layers[0].pixels


READERS = [_read_png, _read_batch, _open, _ora_layer]


@pytest.mark.parametrize("read", READERS)
def test_over_the_limit_by_one_column_is_refused_from_the_header(tmp_path, read, never_decoded):
    path = tmp_path / "huge.png"
    path.write_bytes(lying_png(20001, 20000))
    with pytest.raises(DocumentFileError) as caught:
        read(path, 400)
    message = str(caught.value)
    assert "the image is 20001 x 20000 pixels (400.02 megapixels), over the limit of " \
           "400 megapixels" in message
    assert "huge." in message
    assert never_decoded == []


def test_exactly_the_limit_is_allowed(tmp_path):
    path = tmp_path / "exact.png"
    Image.new("RGB", (2000, 2000), (1, 2, 3)).save(path)
    assert load_image(path, 4)[0].shape == (2000, 2000, 4)
    Image.new("RGB", (2001, 2000)).save(path)
    with pytest.raises(DocumentFileError, match=r"\(4\.002 megapixels\), over the limit of 4 "):
        load_image(path, 4)


@pytest.mark.parametrize("read", READERS)
def test_data_cut_short_is_an_error_never_zeros(tmp_path, read, truncation_allowed_elsewhere):
    path = tmp_path / "cut.png"
    path.write_bytes(lying_png(2000, 2000))  # 4 MP: at the limit, so only truncation fails
    with pytest.raises(DocumentFileError, match="truncated") as caught:
        read(path, 4)
    assert "cut." in str(caught.value)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_real_file_cut_in_half_is_an_error(tmp_path, truncation_allowed_elsewhere):
    buf = io.BytesIO()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(buf, "PNG")
    path = tmp_path / "half.png"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(DocumentFileError, match=r"half\.png.*truncated"):
        load_image(path)


def test_a_bomb_beyond_pillows_own_ceiling_quotes_our_limit(tmp_path, monkeypatch, never_decoded):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)  # Pillow's default
    path = tmp_path / "bomb.png"
    path.write_bytes(lying_png(40000, 40000))  # 1600 MP: Pillow itself refuses it at open
    with pytest.raises(DocumentFileError) as caught:
        load_image(path, 400)
    message = str(caught.value)
    assert message.startswith("“bomb.png”: the image is ")
    assert "(1600.0 megapixels), over the limit of 400 megapixels" in message
    assert "800000000" not in message and "DOS" not in message
    assert never_decoded == []


def test_export_refuses_a_lying_header_with_the_numbers(tmp_path, capsys, never_decoded):
    src = tmp_path / "huge.png"
    src.write_bytes(lying_png(20001, 20000))
    assert main(["export", str(src), str(tmp_path / "o.png"), "--max-megapixels", "400"]) == 1
    err = capsys.readouterr().err
    assert "(400.02 megapixels), over the limit of 400 megapixels" in err
    assert not (tmp_path / "o.png").exists() and never_decoded == []


def test_export_refuses_data_cut_short(tmp_path, capsys, truncation_allowed_elsewhere):
    src = tmp_path / "cut.png"
    src.write_bytes(lying_png(2000, 2000))
    assert main(["export", str(src), str(tmp_path / "o.png")]) == 1
    assert "“cut.png”: the file is damaged or incomplete" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_an_ora_layer_cut_short_is_an_error_not_transparent(tmp_path,
                                                           truncation_allowed_elsewhere):
    ora = ora_with_layer(tmp_path / "doc.ora", lying_png(64, 48, body=200))
    with pytest.raises(DocumentFileError, match=r"doc\.ora.*layer image .*truncated"):
        read_ora(ora)


def test_an_oversized_ora_layer_is_refused_before_decoding(tmp_path, never_decoded):
    ora = ora_with_layer(tmp_path / "doc.ora", lying_png(20001, 20000))
    with pytest.raises(DocumentFileError, match=r"layer image .*400\.02 megapixels"):
        read_ora(ora, 400)
    assert never_decoded == []
