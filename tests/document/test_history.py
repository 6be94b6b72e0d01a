"""Undo/redo exactness, grouping, memory use and the modified flag."""

from __future__ import annotations

import numpy as np
from conftest import assert_same, noise, snapshot, solid

from artstudio.document import MASK, Brush, BrushSettings, Document, Rect, flood_fill


def stroke(d: Document, pts, target=None, **settings) -> None:
    b = Brush(BrushSettings(**{"size": 9, "color": (250, 10, 10), **settings}))
    b.begin_stroke(d, *pts[0], target=target)
    for p in pts[1:]:
        b.stroke_to(*p)
    b.end_stroke()


def test_undo_redo_exact_after_mixed_operations(doc):
    states = [snapshot(doc)]
    ops = [
        lambda: stroke(doc, [(5, 5), (40, 30), (60, 10)], target=0),
        lambda: stroke(doc, [(12, 10), (30, 30)], target=1, eraser=True),
        lambda: doc.add_layer(noise(20, 20, 5), name="New", x=-5, y=30),
        lambda: stroke(doc, [(0, 35), (10, 45)], target=2),
        lambda: doc.rename_layer(2, "Renamed"),
        lambda: doc.set_layer_opacity(1, 0.25),
        lambda: doc.set_layer_visible(0, False),
        lambda: doc.set_layer_blend(1, "svg:screen"),
        lambda: doc.set_layer_lock_alpha(2, True),
        lambda: doc.move_layer(2, 0),
        lambda: doc.duplicate_layer(1),
        lambda: doc.move_layer_offset(1, 3, -2),
        lambda: stroke(doc, [(20, 20), (40, 20)], target=MASK),
        lambda: doc.set_frame(Rect(8, 8, 32, 24)),
        lambda: doc.set_layer_visible(1, True),
        lambda: doc.merge_down(2),
        lambda: flood_fill(doc, 0, 35, (0, 0, 255), tolerance=255, target=0),
        lambda: doc.add_generated_layer(noise(32, 24, 9), {"prompt": "a cat", "seed": 3}),
        lambda: doc.resize_canvas(80, 40, anchor=(0.0, 1.0)),
        lambda: doc.delete_layer(0),
        lambda: doc.resize_image(40, 20),
        lambda: doc.set_frame(Rect(2, 2, 20, 10)),
        lambda: doc.crop_to_frame(),
        lambda: doc.invert_mask(),
        lambda: doc.flatten(),
    ]
    for op in ops:
        op()
        states.append(snapshot(doc))
    assert [s.label for s in doc.history.undo_steps][-1] == "Flatten image"
    assert len(doc.history.undo_steps) == len(ops)
    for n, state in reversed(list(enumerate(states[:-1]))):
        label = doc.undo_label
        assert doc.undo()
        now = snapshot(doc)
        assert now["active"] == state["active"], (n, label)
        assert_same(now, state)
    assert not doc.undo()
    for state in states[1:]:
        assert doc.redo()
        assert_same(snapshot(doc), state)
    # Composite cache follows undo too.
    doc.undo()
    doc.undo()
    from artstudio.document import compose
    assert np.array_equal(doc.composite(), compose(doc.layers, doc.rect))


def test_stroke_is_one_step_and_group_joins_changes(doc):
    stroke(doc, [(1, 1), (50, 40), (5, 40), (60, 2)], target=0)
    assert len(doc.history.undo_steps) == 1
    with doc.edit("Move layer"):
        doc.move_layer_offset(1, 1, 0)
        doc.move_layer_offset(1, 1, 0)
        doc.move_layer_offset(1, 1, 0)
    assert len(doc.history.undo_steps) == 2 and doc.undo_label == "Move layer"
    doc.undo()
    assert doc.layer(1).x == 10


def test_new_change_clears_redo(doc):
    doc.rename_layer(0, "A")
    doc.undo()
    assert doc.can_redo
    doc.rename_layer(0, "B")
    assert not doc.can_redo


def test_pixel_history_stores_changed_tiles_only():
    d = Document(2048, 2048)
    d.add_layer(noise(2048, 2048, 1, opaque=True))
    d.clear_history()
    full_copy = d.layer(0).pixels.nbytes
    for i in range(20):
        stroke(d, [(100 + i * 80, 100), (100 + i * 80, 400)], target=0, size=30)
    assert len(d.history.undo_steps) == 20
    # 20 short strokes: far below even one full copy of the layer (16 MiB).
    assert d.history.nbytes < full_copy / 4
    original = noise(2048, 2048, 1, opaque=True)
    while d.undo():
        pass
    assert np.array_equal(d.layer(0).pixels, original)


def test_history_budget_drops_oldest_steps():
    d = Document(256, 256, history_budget_bytes=300_000)
    d.add_layer()
    for i in range(10):
        stroke(d, [(i * 20 + 10, 10), (i * 20 + 10, 240)], target=0, size=12)
    assert d.history.nbytes <= 300_000
    assert 1 <= len(d.history.undo_steps) < 11
    while d.undo():
        pass
    # The first strokes can no longer be undone: their pixels remain.
    assert d.layer(0).pixels[100, 10, 3] == 255


def test_modified_flag_follows_history_and_saving(doc):
    seen = []
    doc.events.modified_changed.connect(seen.append)
    assert not doc.modified
    doc.rename_layer(0, "X")
    assert doc.modified
    doc.undo()
    assert not doc.modified
    doc.redo()
    doc.mark_saved()
    assert not doc.modified
    doc.undo()
    assert doc.modified
    assert seen == [True, False, True, False, True]


def test_events_report_what_changed(doc):
    log = []
    ev = doc.events
    ev.pixels_changed.connect(lambda i, r: log.append(("pixels", i, r)))
    ev.layers_changed.connect(lambda: log.append(("layers",)))
    ev.frame_changed.connect(lambda r: log.append(("frame", r)))
    ev.size_changed.connect(lambda w, h: log.append(("size", w, h)))
    ev.composite_changed.connect(lambda r: log.append(("composite", r)))
    stroke(doc, [(30, 20)], target=1, size=4, hardness=1.0)
    pixels = [e for e in log if e[0] == "pixels"]
    assert pixels and pixels[0][1] == 1
    assert pixels[0][2].contains(Rect(29, 19, 2, 2)) and pixels[0][2].w < 10
    log.clear()
    doc.set_frame(Rect(0, 0, 10, 10))
    assert log == [("frame", Rect(0, 0, 10, 10))]
    doc.resize_canvas(70, 50)
    assert ("size", 70, 50) in log and ("layers",) in log


def test_a_failing_listener_does_not_break_the_document(doc):
    def broken(*_):
        raise RuntimeError("view bug")
    doc.events.layers_changed.connect(broken)
    doc.rename_layer(0, "Still works")
    assert doc.layer(0).name == "Still works"


def test_set_layer_pixels_keeps_only_changed_tiles():
    d = Document(512, 512)
    d.add_layer(solid(512, 512, (1, 2, 3, 255)))
    new = d.layer(0).pixels.copy()
    new[:10, :10] = 0
    d.set_layer_pixels(0, new)
    assert d.history.nbytes == 64 * 64 * 4
    d.undo()
    assert tuple(d.layer(0).pixels[0, 0]) == (1, 2, 3, 255)



def test_every_step_kind_restores_pixels_and_the_composite_cache():
    """One of each kind of step, each undone and redone on its own: the
    document comes back exactly and the cached composite follows. The canvas
    spans many cache tiles and the small layers move far, so a primitive
    that forgot to mark an area dirty would leave stale tiles behind."""
    from artstudio.document import compose

    doc = Document(200, 150)
    doc.add_layer(noise(200, 150, 1, opaque=True), name="Background")
    doc.add_layer(noise(40, 30, 2), name="Top", x=10, y=8, opacity=0.7, blend="svg:multiply")
    doc.clear_history()
    steps = [
        lambda: doc.set_layer_pixels(0, noise(200, 150, 7, opaque=True)),  # tile patch
        lambda: doc.set_layer_pixels(1, noise(12, 9, 8), x=150, y=120),  # new size: swap
        lambda: stroke(doc, [(5, 5), (150, 100)], target=0),
        lambda: doc.set_mask(np.full((150, 200), 128, np.uint8)),
        lambda: doc.clear_mask(),
        lambda: doc.add_layer(noise(20, 20, 5), x=100, y=10),
        lambda: doc.duplicate_layer(1),
        lambda: doc.move_layer(3, 0),  # under the opaque background
        lambda: doc.set_layer_props(2, x=20, y=100, opacity=0.4, blend="svg:difference"),
        lambda: doc.set_layer_visible(3, False),
        lambda: doc.delete_layer(2),
        lambda: doc.set_frame(Rect(40, 30, 100, 80)),
        lambda: doc.reset_frame(),
        lambda: doc.merge_down(2),
        lambda: doc.resize_canvas(230, 170, anchor=(1.0, 0.0)),
        lambda: doc.resize_image(115, 85),
        lambda: doc.set_frame(Rect(10, 10, 60, 40)),
        lambda: doc.crop_to_frame(),
        lambda: doc.flatten(),
    ]
    for n, step in enumerate(steps):
        doc.composite()  # warm the cache so only the step's own invalidation counts
        before, count = snapshot(doc), len(doc.history.undo_steps)
        step()
        assert len(doc.history.undo_steps) == count + 1, n
        after = snapshot(doc)
        assert np.array_equal(doc.composite(), compose(doc.layers, doc.rect)), n
        assert doc.undo()
        assert_same(snapshot(doc), before)
        assert np.array_equal(doc.composite(), compose(doc.layers, doc.rect)), n
        assert doc.redo()
        assert_same(snapshot(doc), after)
        assert np.array_equal(doc.composite(), compose(doc.layers, doc.rect)), n
