"""Krita flattens our .ora files as we do, and we read Krita's.

Runs where Krita is installed: `make test` installs it as root (CI), and
tells anyone else `sudo apt-get install krita xvfb xauth`; without it these
tests skip, except in CI (ARTSTUDIO_REQUIRE_KRITA=1, set by .ci/run), where
a missing Krita fails them rather than hiding the check.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
from conftest import noise, solid
from PIL import Image

from artstudio.document import Document, open_document, save_document

HAVE_KRITA = bool(shutil.which("krita") and shutil.which("xvfb-run"))
if not HAVE_KRITA and os.environ.get("ARTSTUDIO_REQUIRE_KRITA") == "1":
    raise RuntimeError("ARTSTUDIO_REQUIRE_KRITA=1 but krita or xvfb-run is not installed")
pytestmark = pytest.mark.skipif(not HAVE_KRITA, reason="krita is not installed")

TOLERANCE = 3  # Krita blends in 8-bit integers, we in float


def krita_export(src, dst) -> None:
    subprocess.run(["xvfb-run", "-a", "krita", "--export", "--export-filename", str(dst),
                    str(src)], check=True, capture_output=True, timeout=180)


def layered_doc() -> Document:
    d = Document(96, 64)
    yy, xx = np.mgrid[0:64, 0:96]
    bg = np.zeros((64, 96, 4), np.uint8)
    bg[..., 0], bg[..., 1], bg[..., 2], bg[..., 3] = xx * 255 // 96, yy * 4, 128, 255
    d.add_layer(bg, name="bg")
    modes = ["svg:multiply", "svg:screen", "svg:src-over", "svg:overlay", "svg:darken",
             "svg:lighten", "svg:difference", "svg:plus"]
    for i, mode in enumerate(modes):
        d.add_layer(noise(30, 24, i + 10), name=mode, blend=mode,
                    x=(i * 13) % 70 - 5, y=(i * 7) % 40 - 4, opacity=(1.0, 0.6, 0.8)[i % 3])
    d.add_layer(solid(20, 20, (255, 255, 255, 255)), name="hidden", x=10, y=10, visible=False)
    return d


def rgba(path_or_bytes) -> np.ndarray:
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return np.asarray(Image.open(src).convert("RGBA")).astype(int)


def test_krita_flattens_our_file_like_we_do(tmp_path):
    d = layered_doc()
    save_document(d, tmp_path / "ours.ora")
    krita_export(tmp_path / "ours.ora", tmp_path / "krita.png")
    diff = np.abs(rgba(tmp_path / "krita.png") - d.composite().astype(int)).max()
    assert diff <= TOLERANCE


def test_we_read_krita_files_and_match_its_merged_image(tmp_path):
    save_document(layered_doc(), tmp_path / "ours.ora")
    krita_export(tmp_path / "ours.ora", tmp_path / "krita.ora")
    doc, _ = open_document(tmp_path / "krita.ora")
    assert [layer.name for layer in doc.layers][-1] == "hidden"
    with zipfile.ZipFile(tmp_path / "krita.ora") as zf:
        merged = rgba(zf.read("mergedimage.png"))
    assert np.abs(merged - doc.composite().astype(int)).max() <= TOLERANCE
