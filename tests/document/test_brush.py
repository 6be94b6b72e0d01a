"""The dab brush, eraser, lock alpha, mask painting, fill and picker."""

from __future__ import annotations

import numpy as np
from conftest import solid

from artstudio.document import MASK, Brush, BrushSettings, Document, flood_fill, pick_color
from artstudio.document.brush import dab_mask


def blank(w: int = 64, h: int = 64) -> Document:
    d = Document(w, h)
    d.add_layer()
    return d


def test_hard_dab_covers_its_disc_and_nothing_else():
    cov = dab_mask(10.0, 10.0, 5.0, 1.0, 21, 21)
    assert cov[10, 10] == 1.0
    assert cov[10, 16] == 0.0 and cov[0, 0] == 0.0
    assert 0.0 < cov[10, 14] <= 1.0  # anti-aliased rim inside radius


def test_single_dab_paints_colour_with_full_alpha_at_centre():
    d = blank()
    b = Brush(BrushSettings(size=10, hardness=1.0, color=(200, 30, 40)))
    rect = b.begin_stroke(d, 32, 32)
    b.end_stroke()
    px = d.layer(0).pixels
    assert tuple(px[32, 32]) == (200, 30, 40, 255)
    assert px[32, 40, 3] == 0
    assert rect.contains(d.layer(0).bounds.intersect(rect))
    assert rect.w <= 13 and rect.h <= 13  # only the dab's bounding box changed
    assert d.undo_label == "Brush stroke"


def test_opacity_caps_a_stroke_even_where_dabs_overlap():
    d = blank()
    b = Brush(BrushSettings(size=12, hardness=1.0, opacity=0.5, color=(0, 0, 0), spacing=0.05))
    b.begin_stroke(d, 10, 32)
    b.stroke_to(50, 32)
    b.end_stroke()
    assert d.layer(0).pixels[32, 30, 3] == 128  # 0.5 of 255, not built up


def test_flow_builds_up_within_the_cap():
    d = blank()
    b = Brush(BrushSettings(size=12, hardness=1.0, flow=0.2, color=(0, 0, 0), spacing=0.05))
    b.begin_stroke(d, 10, 32)
    alpha_after_one = int(d.layer(0).pixels[32, 10, 3])
    b.stroke_to(50, 32)
    b.end_stroke()
    assert alpha_after_one == 51
    assert d.layer(0).pixels[32, 30, 3] > 200


def test_dab_spacing_is_independent_of_how_motion_is_split():
    s = BrushSettings(size=20, spacing=0.25)  # a dab every 5 px
    one, many = Brush(s), Brush(s)
    d1, d2 = blank(), blank()
    one.begin_stroke(d1, 0, 10)
    one.stroke_to(50, 10)
    many.begin_stroke(d2, 0, 10)
    for x in np.linspace(0, 50, 137)[1:]:  # fast or slow motion, same result
        many.stroke_to(float(x), 10)
    assert one.dabs == many.dabs == 11
    assert np.abs(d1.layer(0).pixels.astype(int) - d2.layer(0).pixels.astype(int)).max() <= 1


def test_pressure_scales_size_and_opacity():
    d = blank()
    b = Brush(BrushSettings(size=20, hardness=1.0, pressure_opacity=True, color=(0, 0, 0)))
    b.begin_stroke(d, 32, 32, pressure=0.5)
    b.end_stroke()
    a = d.layer(0).pixels[..., 3]
    assert a[32, 32] == 128
    assert a[32, 32 + 7] == 0  # radius 5 at half pressure


def test_eraser_reduces_alpha_and_lock_alpha_keeps_it():
    d = Document(32, 32)
    d.add_layer(solid(32, 32, (0, 0, 255, 255)))
    Brush_ = Brush(BrushSettings(size=8, hardness=1.0, eraser=True))
    Brush_.begin_stroke(d, 16, 16)
    Brush_.end_stroke()
    assert d.layer(0).pixels[16, 16, 3] == 0
    assert tuple(d.layer(0).pixels[16, 16, :3]) == (0, 0, 255)  # colour kept under alpha 0

    d.add_layer(solid(32, 32, (0, 0, 0, 0)))
    d.add_layer(solid(16, 32, (0, 255, 0, 100)), lock_alpha=True)
    b = Brush(BrushSettings(size=40, hardness=1.0, color=(255, 0, 0)))
    b.begin_stroke(d, 10, 16)
    b.end_stroke()
    px = d.layer(2).pixels
    assert tuple(px[16, 10]) == (255, 0, 0, 100)
    eraser = Brush(BrushSettings(size=40, eraser=True))
    eraser.begin_stroke(d, 10, 16)
    eraser.end_stroke()
    assert tuple(px[16, 10]) == (255, 0, 0, 100)


def test_painting_respects_layer_offset_and_clips_to_layer():
    d = Document(64, 64)
    d.add_layer(solid(10, 10, (0, 0, 0, 0)), x=20, y=30)
    b = Brush(BrushSettings(size=4, hardness=1.0, color=(9, 9, 9)))
    b.begin_stroke(d, 22, 32)
    b.stroke_to(100, 32)  # leaves the layer: no error, nothing outside
    b.end_stroke()
    assert d.layer(0).pixels[2, 2, 3] == 255
    assert d.layer(0).pixels.shape == (10, 10, 4)


def test_mask_brush_and_mask_eraser():
    d = blank()
    events = []
    d.events.mask_changed.connect(events.append)
    b = Brush(BrushSettings(size=10, hardness=1.0))
    b.begin_stroke(d, 20, 20, target=MASK)
    b.end_stroke()
    assert d.mask[20, 20] == 255 and d.mask[40, 40] == 0
    assert d.layer(0).pixels.max() == 0  # the layer is untouched
    assert events
    e = Brush(BrushSettings(size=16, hardness=1.0, eraser=True))
    e.begin_stroke(d, 20, 20, target=MASK)
    e.end_stroke()
    assert d.mask.max() == 0
    d.undo()
    assert d.mask[20, 20] == 255
    assert d.undo_label == "Paint mask"


def test_flood_fill_with_tolerance_stays_inside_the_region():
    d = Document(20, 20)
    px = solid(20, 20, (255, 255, 255, 255))
    px[:, 10] = (0, 0, 0, 255)        # a wall
    px[5, 3] = (250, 250, 250, 255)   # near-white: inside tolerance
    d.add_layer(px)
    flood_fill(d, 2, 2, (255, 0, 0), tolerance=10)
    out = d.layer(0).pixels
    assert tuple(out[5, 3]) == (255, 0, 0, 255)
    assert tuple(out[0, 9]) == (255, 0, 0, 255)
    assert tuple(out[0, 10]) == (0, 0, 0, 255)
    assert tuple(out[0, 11]) == (255, 255, 255, 255)
    d.undo()
    assert np.array_equal(d.layer(0).pixels, px)


def test_flood_fill_of_a_spiral_follows_the_connection():
    d = Document(9, 9)
    wall = np.zeros((9, 9), bool)
    wall[2, 1:8] = wall[2:8, 7] = wall[7, 1:8] = wall[4:8, 1] = wall[4, 1:6] = True
    px = solid(9, 9, (0, 0, 0, 0))
    px[wall] = (0, 0, 0, 255)
    d.add_layer(px)
    flood_fill(d, 0, 0, (0, 255, 0), tolerance=0)
    filled = d.layer(0).pixels[..., 1] == 255
    assert not (filled & wall).any()
    assert filled[5, 3] and filled.sum() == 81 - wall.sum()


def test_pick_colour_from_composite_and_layer():
    d = Document(8, 8)
    d.add_layer(solid(8, 8, (255, 0, 0, 255)))
    d.add_layer(solid(4, 4, (0, 0, 255, 255)), x=4, y=4, opacity=0.0)
    assert pick_color(d, 5, 5) == (255, 0, 0, 255)
    assert pick_color(d, 5, 5, layer=1) == (0, 0, 255, 255)
    assert pick_color(d, 100, 5) == (0, 0, 0, 0)


def test_a_long_stroke_on_a_big_layer_keeps_only_the_touched_tiles():
    # Its speed is measured by bench/brush.py, not asserted here.
    d = Document(4096, 4096)
    d.add_layer()
    b = Brush(BrushSettings(size=40, spacing=0.1, color=(1, 2, 3)))
    b.begin_stroke(d, 100, 100)
    for i in range(1, 125):
        b.stroke_to(100 + i * 16, 100 + i * 12, 1.0)
    b.end_stroke()
    assert b.dabs >= 500
    assert d.history.nbytes < 8 * 2**20


def test_pressure_falling_while_pen_is_still_or_slow():
    """Tablets report pressure changes with no movement; spacing shrinks as
    pressure falls. Neither may fail or put dabs behind the segment start."""
    doc = Document(200, 60)
    doc.add_layer()
    brush = Brush(BrushSettings(size=20, hardness=1.0, color=(0, 0, 0)))
    brush.begin_stroke(doc, 20, 30, 1.0)
    brush.stroke_to(103, 30, 1.0)
    placed = []
    real_dab = brush._dab
    brush._dab = lambda x, y, p: placed.append(x) or real_dab(x, y, p)
    brush.stroke_to(103, 30, 0.2)  # held still: pressure only
    assert placed == []
    brush.stroke_to(110, 30, 0.1)
    brush.end_stroke()
    assert placed and min(placed) >= 103 and max(placed) <= 110
