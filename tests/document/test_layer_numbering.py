"""New layers are numbered as in Krita, never all called "Layer" (issue 11, item 7)."""

from __future__ import annotations

from artstudio.document import Document
from artstudio.document.create import new_document


def test_layers_added_to_a_new_document_are_numbered_on():
    doc = new_document(64, 64)
    doc.add_layer()
    doc.add_layer()
    assert [layer.name for layer in doc.layers] == ["Background", "Layer 1", "Layer 2",
                                                    "Layer 3"]


def test_numbering_follows_the_highest_number_and_names_given_stay():
    doc = Document(32, 32)
    doc.add_layer(name="Sky")
    doc.add_layer(name="Layer 7")
    doc.add_layer()
    doc.add_layer(name="Layer")  # a name the artist chose is kept as it is
    doc.add_layer()
    assert [layer.name for layer in doc.layers] == ["Sky", "Layer 7", "Layer 8", "Layer",
                                                    "Layer 9"]


def test_the_first_layer_of_an_empty_document_is_layer_1():
    doc = Document(32, 32)
    assert doc.add_layer().name == "Layer 1"
