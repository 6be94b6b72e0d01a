"""Merge Down in the window asks before it would change the picture
(issue 11 item 12)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from artstudio.document import Document


def document() -> Document:
    rng = np.random.default_rng(0)
    doc = Document(48, 32)
    background = rng.integers(0, 256, (32, 48, 4), dtype=np.uint8)
    background[..., 3] = 255
    doc.add_layer(background, name="Background")
    doc.add_layer(rng.integers(0, 256, (32, 48, 4), dtype=np.uint8), name="Lower",
                  blend="svg:difference")
    doc.add_layer(rng.integers(0, 256, (32, 48, 4), dtype=np.uint8), name="Upper",
                  opacity=0.47)
    return doc


@pytest.fixture
def asked(monkeypatch):
    """The questions shown; the artist clicks the button named `asked.click`."""
    seen = type("Asked", (list,), {})()
    seen.click = "Merge visible"

    def exec_(box):
        seen.append(box.text())
        for button in box.buttons():
            if button.text() == seen.click:
                button.click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return seen


def test_an_inexact_merge_asks_and_merge_visible_keeps_the_picture(studio, asked):
    window = studio.window
    window.documents.set_document(document())
    before = window.doc.composite().astype(int).copy()
    window.layers_panel.merge_layer()
    assert len(asked) == 1 and "Difference" in asked[0] and "Merge visible" in asked[0]
    assert [layer.name for layer in window.doc.layers] == ["Upper"]
    assert int(np.abs(window.doc.composite().astype(int) - before).max()) <= 1


def test_cancel_leaves_the_layers_alone(studio, asked):
    asked.click = "Cancel"
    window = studio.window
    window.documents.set_document(document())
    window.layers_panel.merge_layer()
    assert len(asked) == 1 and len(window.doc.layers) == 3


def test_an_exact_merge_does_not_ask(studio, asked):
    window = studio.window
    doc = document()
    doc.set_layer_blend(1, "svg:src-over")
    doc.set_layer_opacity(1, 0.6)
    window.documents.set_document(doc)
    before = doc.composite().astype(int).copy()
    window.layers_panel.merge_layer()
    assert asked == [] and len(doc.layers) == 2
    assert int(np.abs(doc.composite().astype(int) - before).max()) <= 1
