"""OpenRaster: round trip, zip layout, foreign files, broken files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from conftest import assert_same, noise, snapshot
from PIL import Image

from artstudio.document import (
    MASK,
    Brush,
    BrushSettings,
    Document,
    Rect,
    convert,
    open_document,
    read_ora,
    save_document,
)
from artstudio.document.ora import NS
from artstudio.engine.errors import UserFacingError


def rich_doc() -> Document:
    d = Document(300, 200)
    d.add_layer(noise(300, 200, 1, opaque=True), name="Paper")
    d.add_layer(noise(50, 40, 2), name="Ink", x=-10, y=170, opacity=0.35, blend="svg:multiply",
                lock_alpha=True)
    d.add_layer(noise(30, 30, 3), name="Glow", x=100, y=20, blend="svg:screen", visible=False)
    d.add_generated_layer(noise(64, 64, 4), {"prompt": "a lighthouse", "seed": 42,
                                             "steps": 20, "nested": {"cfg": 7.5}})
    b = Brush(BrushSettings(size=20))
    b.begin_stroke(d, 50, 50, target=MASK)
    b.end_stroke()
    d.set_frame(Rect(-20, 10, 128, 96))
    d.active_index = 1
    return d


def test_round_trip_keeps_everything(tmp_path):
    d = rich_doc()
    path = tmp_path / "work.ora"
    save_document(d, path)
    assert not d.modified and d.path == path
    loaded, notes = open_document(path)
    assert notes == []
    before, after = snapshot(d), snapshot(loaded)
    # uids are per session; compare the rest.
    before["layers"] = [(p, r, 0) for p, r, _ in before["layers"]]
    after["layers"] = [(p, r, 0) for p, r, _ in after["layers"]]
    assert_same(after, before)
    assert loaded.layer(3).generation["nested"] == {"cfg": 7.5}
    assert not loaded.modified and not loaded.can_undo
    assert np.array_equal(loaded.composite(), d.composite())


def test_zip_layout(tmp_path):
    path = tmp_path / "work.ora"
    save_document(rich_doc(), path)
    raw = path.read_bytes()
    # The spec: "mimetype" is the first entry, stored, so its bytes sit at offset 38.
    assert raw[30:38] == b"mimetype" and raw[38:54] == b"image/openraster"
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"image/openraster"
        names = set(zf.namelist())
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png",
                "artstudio/mask.png", "artstudio/document.json"} <= names
        thumb = Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png")))
        assert max(thumb.size) <= 256
        merged = Image.open(io.BytesIO(zf.read("mergedimage.png")))
        assert merged.size == (300, 200)
        xml = zf.read("stack.xml").decode()
        assert 'composite-op="svg:multiply"' in xml and 'visibility="hidden"' in xml
        assert NS in xml and 'selected="true"' in xml
        assert json.loads(zf.read("artstudio/document.json"))["frame"] == [-20, 10, 128, 96]


def write_zip(path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", b"image/openraster", compress_type=zipfile.ZIP_STORED)
        for name, data in files.items():
            zf.writestr(name, data)


def png(px: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(px).save(buf, "PNG")
    return buf.getvalue()


def test_foreign_file_with_groups_and_missing_attributes(tmp_path):
    red = np.zeros((4, 4, 4), np.uint8)
    red[...] = (255, 0, 0, 255)
    grey = np.full((4, 4, 4), 128, np.uint8)
    grey[..., 3] = 255
    stack = """<?xml version="1.0"?>
<image w="8" h="8" version="0.0.3">
 <stack>
  <stack name="Multiply group" composite-op="svg:multiply" opacity="0.5" x="4" y="4">
   <layer src="data/a.png" name="inner" edit-locked="true"/>
  </stack>
  <stack name="Plain">
   <layer src="data/b.png" name="b" selected="true" x="2"/>
  </stack>
  <layer src="data/c.png"/>
 </stack>
</image>"""
    write_zip(tmp_path / "f.ora", {"stack.xml": stack.encode(), "data/a.png": png(grey),
                                  "data/b.png": png(red), "data/c.png": png(grey)})
    doc, notes = read_ora(tmp_path / "f.ora")
    names = [layer.name for layer in doc.layers]
    assert names == ["Layer", "Plain / b", "Multiply group"]
    assert doc.active_index == 1
    assert doc.layer(1).x == 2 and doc.layer(2).bounds == Rect(4, 4, 4, 4)
    assert doc.layer(2).blend.value == "svg:multiply" and doc.layer(2).opacity == 0.5
    assert any("merged" in n for n in notes)


@pytest.mark.parametrize("case", ["not_zip", "broken_xml", "missing_layer", "no_stack",
                                  "doctype", "bad_layer_png", "huge"])
def test_broken_ora_files(tmp_path, doc, case):
    path = tmp_path / f"{case}.ora"
    good = '<image w="4" h="4"><stack><layer src="data/a.png"/></stack></image>'
    files = {"stack.xml": good.encode(), "data/a.png": png(np.zeros((4, 4, 4), np.uint8))}
    if case == "not_zip":
        path.write_bytes(b"hello, not a zip")
    else:
        if case == "broken_xml":
            files["stack.xml"] = b"<image w='4' h='4'><stack><layer"
        elif case == "missing_layer":
            del files["data/a.png"]
        elif case == "no_stack":
            del files["stack.xml"]
        elif case == "doctype":
            files["stack.xml"] = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + good.encode()
        elif case == "bad_layer_png":
            files["data/a.png"] = b"\x89PNG\r\n\x1a\n garbage"
        elif case == "huge":
            files["stack.xml"] = b'<image w="100000" h="100000"><stack/></image>'
        write_zip(path, files)
    written = path.read_bytes()
    with pytest.raises(UserFacingError) as info:
        open_document(path)
    assert path.name in str(info.value)
    assert path.read_bytes() == written
    # converting it over an existing document keeps that document whole
    existing = tmp_path / "existing.ora"
    save_document(doc, existing)
    kept = existing.read_bytes()
    with pytest.raises(UserFacingError, match=case):
        convert(path, existing)
    assert existing.read_bytes() == kept
    assert np.array_equal(open_document(existing)[0].composite(), doc.composite())
