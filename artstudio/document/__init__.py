"""The artist's work: layers, mask, generation frame, history and file formats.

No Qt at all (an import-linter contract and tests/test_import_rules.py say
so): pixels are numpy arrays, files go through Pillow, and change events are
plain callbacks the UI turns into repaints.

Pixels are straight (not premultiplied) RGBA uint8 arrays; see `layers`.
"""

from artstudio.document.autosave import (
    AutosaveEntry,
    autosave,
    discard,
    discard_for,
    list_recoverable,
    record_save,
    recover,
)
from artstudio.document.brush import Brush, BrushSettings, flood_fill, pick_color
from artstudio.document.compose import compose
from artstudio.document.document import MASK, Document, PixelTarget
from artstudio.document.errors import DocumentFileError
from artstudio.document.events import DocumentEvents, Signal
from artstudio.document.geometry import Rect
from artstudio.document.io_images import load_image
from artstudio.document.layers import BlendMode, Layer
from artstudio.document.ora import read_ora, write_ora
from artstudio.document.save import (
    atomic_write,
    convert,
    export_image,
    open_document,
    save_document,
    write_file,
)

__all__ = [
    "MASK",
    "AutosaveEntry",
    "BlendMode",
    "Brush",
    "BrushSettings",
    "Document",
    "DocumentEvents",
    "DocumentFileError",
    "Layer",
    "PixelTarget",
    "Rect",
    "Signal",
    "atomic_write",
    "autosave",
    "compose",
    "convert",
    "discard",
    "discard_for",
    "export_image",
    "flood_fill",
    "list_recoverable",
    "load_image",
    "open_document",
    "pick_color",
    "read_ora",
    "record_save",
    "recover",
    "save_document",
    "write_file",
    "write_ora",
]
