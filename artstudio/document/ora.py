"""OpenRaster (.ora) reading and writing.

Layout written: `mimetype` first and stored (uncompressed), `stack.xml`,
`data/layerN.png`, `mergedimage.png`, `Thumbnails/thumbnail.png` (at most
256 px a side). What only Artstudio knows travels beside the standard parts,
where other programs ignore it: layer attributes in our XML namespace
(lock alpha, generation parameters and a guide layer's role as JSON),
`artstudio/mask.png` and
`artstudio/document.json` (generation frame, active layer).

Reading tolerates files from Krita, GIMP and MyPaint: nested stacks, missing
x/y/opacity/visibility, extra attributes. Groups that are plain pass-through
(visible, Normal, full opacity) are unpacked into their layers; other groups
are flattened into one layer so they look the same.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree as ET

import numpy as np
from PIL import Image

from artstudio.document.compose import compose
from artstudio.document.document import Document
from artstudio.document.errors import DocumentFileError
from artstudio.document.geometry import Rect
from artstudio.document.guides import GuideError, checked_guide
from artstudio.document.io_images import (
    DEFAULT_MAX_MEGAPIXELS,
    check_pixel_count,
    decode_image,
    encode_png,
    limit_in_pixels,
)
from artstudio.document.layers import BlendMode, Layer
from artstudio.document.regular_files import open_regular

MIMETYPE = b"image/openraster"
NS = "https://artstudio.invalid/ns/1"
"""Our XML namespace for attributes other programs ignore (stable: never change)."""
THUMBNAIL_SIDE = 256
_MAX_XML_BYTES = 32 * 2**20

ET.register_namespace("artstudio", NS)


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


# ------------------------------------------------------------------ writing
def write_ora(doc: Document, fh: BinaryIO, compress_level: int = 6) -> None:
    """Write `doc` as OpenRaster to a binary stream."""
    with zipfile.ZipFile(fh, "w") as zf:
        # The spec requires this entry first and uncompressed, so `file` can sniff it.
        zf.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        image = ET.Element("image", {"version": "0.0.5", "w": str(doc.width),
                                     "h": str(doc.height)})
        stack = ET.SubElement(image, "stack")
        for index in reversed(range(len(doc.layers))):  # OpenRaster lists the top first
            layer = doc.layers[index]
            src = f"data/layer{index}.png"
            attrs = {
                "name": layer.name, "src": src, "x": str(layer.x), "y": str(layer.y),
                "opacity": repr(layer.opacity),
                "visibility": "visible" if layer.visible else "hidden",
                "composite-op": layer.blend.value,
                _q("lock-alpha"): "true" if layer.lock_alpha else "false",
            }
            if index == doc.active_index:
                attrs["selected"] = "true"
            if layer.generation is not None:
                attrs[_q("generation")] = json.dumps(layer.generation, sort_keys=True)
            if layer.guide is not None:
                attrs[_q("guide")] = json.dumps(layer.guide, sort_keys=True)
            ET.SubElement(stack, "layer", attrs)
            zf.writestr(src, encode_png(layer.pixels, compress_level),
                        compress_type=zipfile.ZIP_STORED)
        xml = ET.tostring(image, encoding="UTF-8", xml_declaration=True)
        zf.writestr("stack.xml", xml, compress_type=zipfile.ZIP_DEFLATED)
        merged = doc.composite()
        zf.writestr("mergedimage.png", encode_png(merged, compress_level),
                    compress_type=zipfile.ZIP_STORED)
        thumb = Image.fromarray(merged, "RGBA")
        thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        zf.writestr("Thumbnails/thumbnail.png", encode_png(np.asarray(thumb), compress_level),
                    compress_type=zipfile.ZIP_STORED)
        if doc.mask.any():
            zf.writestr("artstudio/mask.png", encode_png(doc.mask, compress_level),
                        compress_type=zipfile.ZIP_STORED)
        meta = {"format": 1, "frame": list(doc.frame), "active": doc.active_index,
                "mask": "artstudio/mask.png" if doc.mask.any() else None}
        zf.writestr("artstudio/document.json", json.dumps(meta, indent=1),
                    compress_type=zipfile.ZIP_DEFLATED)


# ------------------------------------------------------------------ reading
class _Reader:
    def __init__(self, path: Path, zf: zipfile.ZipFile, max_megapixels: float) -> None:
        self.path = path
        self.zf = zf
        self.max_megapixels = max_megapixels
        self.notes: list[str] = []
        self.active_layer: Layer | None = None

    def fail(self, reason: str) -> DocumentFileError:
        return DocumentFileError(self.path, reason)

    def read_bytes(self, name: str, what: str) -> bytes:
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise self.fail(f"{what} “{name}” is missing from the file") from None
        # 4 bytes a pixel at the limit, plus room for the PNG's own chunks.
        if info.file_size > limit_in_pixels(self.max_megapixels) * 4 + (1 << 24):
            raise self.fail(f"{what} “{name}” is too large to open safely")
        try:
            return self.zf.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise self.fail(f"{what} “{name}” is damaged ({exc})") from exc

    def read_png(self, name: str, what: str) -> np.ndarray:
        data = self.read_bytes(name, what)
        try:
            pixels, _ = decode_image(io.BytesIO(data), self.path, self.max_megapixels)
        except DocumentFileError as exc:
            raise self.fail(f"{what} “{name}”: {exc.reason}") from exc
        return pixels

    def layers_of(self, stack: ET.Element, ox: int, oy: int) -> list[Layer]:
        """The layers of a <stack>, bottom first."""
        out: list[Layer] = []
        for child in reversed(list(stack)):
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "layer":
                layer = self.layer(child, ox, oy)
                if child.get("selected", "").lower() == "true":
                    self.active_layer = layer
                out.append(layer)
            elif tag == "stack":
                out.extend(self.group(child, ox, oy))
            elif tag == "text":
                self.notes.append("a text element was skipped")
        return out

    def common(self, elem: ET.Element, kind: str) -> dict[str, Any]:
        name = elem.get("name") or kind.capitalize()
        op = elem.get("composite-op")
        blend = BlendMode.from_ora(op)
        if blend is None:
            self.notes.append(f"{kind} “{name}”: blend mode {op} is not supported; "
                              "shown as Normal")
            blend = BlendMode.NORMAL
        try:
            opacity = float(elem.get("opacity", "1"))
        except ValueError:
            opacity = 1.0
        return {"name": name, "blend": blend, "opacity": opacity,
                "visible": elem.get("visibility", "visible").lower() != "hidden"}

    def offset(self, elem: ET.Element) -> tuple[int, int]:
        try:
            return (round(float(elem.get("x", "0") or 0)), round(float(elem.get("y", "0") or 0)))
        except ValueError:
            raise self.fail("stack.xml has a position that is not a number") from None

    def layer(self, elem: ET.Element, ox: int, oy: int) -> Layer:
        props = self.common(elem, "layer")
        src = elem.get("src")
        if not src:
            raise self.fail(f"layer “{props['name']}” has no image (src)")
        pixels = self.read_png(src, "layer image")
        x, y = self.offset(elem)
        generation = None
        if elem.get(_q("generation")):
            try:
                generation = json.loads(elem.get(_q("generation"), ""))
            except json.JSONDecodeError:
                self.notes.append(f"layer “{props['name']}”: generation settings unreadable")
        return Layer(pixels, x=x + ox, y=y + oy, generation=generation,
                     guide=self.guide(elem, props["name"]),
                     lock_alpha=elem.get(_q("lock-alpha"), "false").lower() == "true", **props)

    def guide(self, elem: ET.Element, name: str) -> dict[str, Any] | None:
        """The layer's guide; one that cannot be read or used leaves a plain
        layer (pixels and the rest as saved) and a note."""
        text = elem.get(_q("guide"))
        if not text:
            return None
        try:
            return checked_guide(json.loads(text))
        except (json.JSONDecodeError, GuideError) as exc:
            reason = "not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
            self.notes.append(f"layer “{name}”: its guide settings were unreadable ({reason}); "
                              "it opens as a plain layer")
            return None

    def group(self, elem: ET.Element, ox: int, oy: int) -> list[Layer]:
        props = self.common(elem, "group")
        x, y = self.offset(elem)
        children = self.layers_of(elem, ox + x, oy + y)
        if not children:
            return []
        plain = props["blend"] is BlendMode.NORMAL and props["opacity"] >= 1.0
        if plain:
            # A Normal, opaque group looks the same unpacked (pass-through), and
            # unpacked keeps the layers editable.
            for child in children:
                child.name = f"{props['name']} / {child.name}"
                child.visible = child.visible and props["visible"]
            return children
        area = Rect(0, 0, 0, 0)
        for child in children:
            area = area.union(child.bounds)
        flat = compose(children, area)
        self.notes.append(f"group “{props['name']}” was merged into one layer")
        return [Layer(flat, x=area.x, y=area.y, **props)]


def read_ora(path: Path | str, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
             ) -> tuple[Document, list[str]]:
    """Open an OpenRaster file as a new Document; returns (document, notes)."""
    path = Path(path)
    with open_regular(path) as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise DocumentFileError(path, "this is not an OpenRaster file "
                                          "(it is not a readable zip archive)") from exc
        with zf:
            reader = _Reader(path, zf, max_megapixels)
            return _read(reader)


def _read(reader: _Reader) -> tuple[Document, list[str]]:
    zf = reader.zf
    names = set(zf.namelist())
    if "mimetype" in names and zf.read("mimetype").strip() != MIMETYPE:
        reader.notes.append("the file does not declare itself as OpenRaster")
    data = reader.read_bytes("stack.xml", "the layer list")
    if len(data) > _MAX_XML_BYTES:
        raise reader.fail("stack.xml is too large")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise reader.fail("stack.xml contains a DOCTYPE, which is not allowed")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise reader.fail(f"stack.xml is broken ({exc})") from exc
    if root.tag != "image":
        raise reader.fail("stack.xml does not describe an image")
    try:
        width, height = int(root.get("w", "")), int(root.get("h", ""))
    except ValueError:
        raise reader.fail("stack.xml has no valid image width and height") from None
    if width < 1 or height < 1:
        raise reader.fail("stack.xml gives the image no size")
    check_pixel_count(reader.path, width, height, reader.max_megapixels)
    stack = root.find("stack")
    layers = reader.layers_of(stack, 0, 0) if stack is not None else []
    active = next((i for i, layer in enumerate(layers) if layer is reader.active_layer), None)
    mask = None
    frame = None
    if "artstudio/document.json" in names:
        try:
            meta = json.loads(zf.read("artstudio/document.json"))
            fx, fy, fw, fh = (int(v) for v in meta.get("frame"))
            frame = Rect(fx, fy, fw, fh)
            if isinstance(meta.get("active"), int) and meta["active"] >= 0:
                active = meta["active"]
        except (ValueError, TypeError, KeyError, zipfile.BadZipFile):
            reader.notes.append("Artstudio's extra settings in this file were unreadable")
    if "artstudio/mask.png" in names:
        rgba = reader.read_png("artstudio/mask.png", "the inpainting mask")
        if rgba.shape[:2] == (height, width):
            # Masks are saved greyscale: every colour channel holds the value.
            mask = np.ascontiguousarray(rgba[..., 0])
        else:
            reader.notes.append("the inpainting mask did not fit the canvas and was dropped")
    doc = Document.from_layers(width, height, layers, mask=mask, frame=frame, active=active)
    doc.path = reader.path
    return doc, reader.notes
