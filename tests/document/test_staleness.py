"""DocumentMark: is a job's result still for the open document, and is that
document as the job found it?"""

from __future__ import annotations

import gc

import numpy as np

from artstudio.document import Document
from artstudio.document.staleness import DocumentMark


def painted(doc: Document) -> None:
    doc.add_layer(np.full((doc.height, doc.width, 4), 200, np.uint8), name="stroke")


def test_untouched_document_is_open_and_unchanged():
    doc = Document(8, 8)
    mark = DocumentMark.of(doc)
    assert mark.document is doc
    assert mark.is_open(doc) and mark.unchanged(doc)


def test_painting_meanwhile_changes_it_but_it_stays_open():
    doc = Document(8, 8)
    mark = DocumentMark.of(doc)
    painted(doc)
    assert mark.is_open(doc) and not mark.unchanged(doc)


def test_undoing_back_to_the_marked_state_counts_as_unchanged():
    doc = Document(8, 8)
    painted(doc)
    mark = DocumentMark.of(doc)
    painted(doc)
    doc.undo()
    assert mark.unchanged(doc)
    doc.undo()
    assert not mark.unchanged(doc)


def test_another_document_open_or_none_is_not_the_marked_one():
    doc, other = Document(8, 8), Document(8, 8)
    mark = DocumentMark.of(doc)
    assert not mark.is_open(other) and not mark.unchanged(other)
    assert not mark.is_open(None) and not mark.unchanged(None)


def test_a_mark_of_no_document_is_unchanged_only_while_none_is_open():
    mark = DocumentMark.of(None)
    assert mark.document is None
    assert mark.unchanged(None)
    assert not mark.unchanged(Document(8, 8)) and not mark.is_open(Document(8, 8))


def test_a_mark_does_not_keep_a_closed_document_alive():
    doc = Document(8, 8)
    mark = DocumentMark.of(doc)
    del doc
    gc.collect()
    assert mark.document is None
    assert not mark.is_open(Document(8, 8))
