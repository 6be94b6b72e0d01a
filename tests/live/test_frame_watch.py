"""Which document changes feed live mode: finished changes inside the frame."""

from __future__ import annotations

import numpy as np

from artstudio.document import Rect
from artstudio.document.brush import Brush, BrushSettings
from artstudio.document.create import new_document
from artstudio.live.frame_watch import FrameWatcher


def watched():
    doc = new_document(128, 96)
    doc.set_frame(Rect(0, 0, 64, 64))
    doc.clear_history()
    calls = []
    FrameWatcher(doc, lambda: calls.append(doc.revision))
    return doc, calls


def stroke(doc, points):
    brush = Brush(BrushSettings(size=6, hardness=1.0, color=(200, 0, 0), spacing=0.1))
    brush.begin_stroke(doc, *points[0], target=doc.active_index)
    for x, y in points[1:]:
        brush.stroke_to(x, y)
    return brush


def test_a_stroke_counts_once_when_it_ends():
    doc, calls = watched()
    brush = stroke(doc, [(10, 10), (20, 12), (30, 20), (40, 30)])
    assert calls == []  # many composite updates, no change yet
    brush.end_stroke()
    assert len(calls) == 1


def test_changes_outside_the_frame_and_to_the_mask_do_not_count():
    doc, calls = watched()
    stroke(doc, [(100, 80), (110, 85)]).end_stroke()
    mask = np.zeros((96, 128), np.uint8)
    mask[0:20, 0:20] = 255
    doc.set_mask(mask)
    assert calls == []


def test_layer_visibility_undo_and_a_moved_frame_count():
    doc, calls = watched()
    doc.set_layer_visible(0, False)
    assert len(calls) == 1
    doc.undo()
    assert len(calls) == 2
    doc.set_frame(Rect(32, 16, 64, 64))
    assert len(calls) == 3
