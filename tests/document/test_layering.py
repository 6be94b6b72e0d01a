"""The document core stays free of widgets (and even of Qt)."""

from __future__ import annotations

import subprocess
import sys


def test_document_imports_without_qt():
    code = ("import sys, artstudio.document, artstudio.document.brush; "
            "print([m for m in sys.modules if m.startswith('PySide6')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
