"""New documents: File > New and a paste with nothing open."""

from __future__ import annotations

import numpy as np

from artstudio.document.create import document_from_picture, new_document


def test_new_document_has_a_filled_background_and_an_empty_layer():
    doc = new_document(20, 10, (128, 128, 128, 255))
    assert doc.size == (20, 10)
    assert [layer.name for layer in doc.layers] == ["Background", "Layer 1"]
    assert (doc.layer(0).pixels == (128, 128, 128, 255)).all()
    assert not doc.layer(1).pixels.any()
    assert doc.active_layer is doc.layer(1)
    assert not doc.modified and not doc.can_undo


def test_transparent_new_document_has_only_the_paint_layer():
    doc = new_document(6, 4, None)
    assert [layer.name for layer in doc.layers] == ["Layer 1"]
    assert not doc.composite().any()


def test_default_background_is_white():
    assert (new_document(3, 3).composite() == 255).all()


def test_pasted_picture_becomes_an_unsaved_document_of_its_size():
    pixels = np.zeros((5, 7, 4), np.uint8)
    pixels[..., 0] = 250
    pixels[..., 3] = 255
    doc = document_from_picture(pixels, "Pasted")
    assert doc.size == (7, 5)
    assert [layer.name for layer in doc.layers] == ["Pasted"]
    assert np.array_equal(doc.composite(), pixels)
    assert doc.modified and not doc.can_undo
    pixels[...] = 0
    assert doc.layer(0).pixels[0, 0, 0] == 250  # the layer holds a copy
