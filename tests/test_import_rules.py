"""The layering rule, checked on the source: only artstudio.ui (and the app
launcher) may import QtWidgets; the engine, the document, the model packages
and batch import no Qt at all.
Imports inside functions count too, since they run sooner or later."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "artstudio"
UI_ALLOWED = {"ui", "app.py"}
QT_FREE = {"engine", "document", "model_files", "diffusion", "upscale", "style", "erase.py",
           "batch", "interpolation", "assists", "live", "control"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def core_files():
    for path in PACKAGE.rglob("*.py"):
        top = path.relative_to(PACKAGE).parts[0]
        if top not in UI_ALLOWED:
            yield path, top


def test_core_never_imports_widgets_or_ui():
    offenders = []
    for path, _top in core_files():
        for name in imported_modules(path):
            if name.startswith(("PySide6.QtWidgets", "artstudio.ui")):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_engine_document_models_and_batch_import_no_qt():
    assert {p.name for p in PACKAGE.iterdir()} >= QT_FREE  # a renamed package is not forgotten
    offenders = []
    for path, top in core_files():
        if top in QT_FREE:
            offenders += [f"{path.relative_to(PACKAGE)} imports {n}"
                          for n in imported_modules(path) if n.startswith("PySide6")]
    assert offenders == []


def test_the_check_sees_lazy_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from PySide6.QtWidgets import QWidget\n")
    assert "PySide6.QtWidgets" in imported_modules(sample)
