"""The staging tray as a model: results arrive, are selected, discarded and
applied as layers where and in the document they were made for."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.params import GenerationResult, ImageInfo
from artstudio.diffusion.results import (
    Candidate,
    ResultTarget,
    ResultTray,
    apply_candidate,
    erased_candidate,
    generated_candidates,
    outpainted_canvas,
)
from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.document.staleness import DocumentMark
from artstudio.engine import RequestRefused

SQUARE = Rect(0, 0, 8, 8)


def red(w: int, h: int) -> Image.Image:
    return Image.new("RGB", (w, h), (230, 10, 10))


def candidate(doc, frame=SQUARE, seed=1, mode="txt2img", outpaint=None, image=None):
    target = ResultTarget(mode, frame, DocumentMark.of(doc), outpaint)
    return Candidate(image or red(frame.w, frame.h), {"prompt": f"boat {seed}"}, target, seed)


class Recorder:
    def __init__(self, tray: ResultTray):
        self.events = []
        tray.added.connect(lambda i, c: self.events.append(("added", i, c.seed)))
        tray.removed.connect(lambda i: self.events.append(("removed", i)))
        tray.selection_changed.connect(lambda i: self.events.append(("selected", i)))


def test_a_new_result_is_announced_then_selected():
    doc = new_document(16, 16)
    tray = ResultTray()
    seen = Recorder(tray)
    tray.add(candidate(doc, seed=7))
    tray.add(candidate(doc, seed=8))
    assert seen.events == [("added", 0, 7), ("selected", 0), ("added", 1, 8), ("selected", 1)]
    assert tray.current.seed == 8 and len(tray) == 2


def test_selecting_again_or_out_of_range_is_quiet_or_clears():
    doc = new_document(16, 16)
    tray = ResultTray()
    tray.add(candidate(doc))
    seen = Recorder(tray)
    tray.select(0)
    assert seen.events == []
    tray.select(5)
    assert seen.events == [("selected", -1)] and tray.current is None


def test_discard_selects_the_next_result_then_the_previous():
    doc = new_document(16, 16)
    tray = ResultTray()
    for seed in (1, 2, 3):
        tray.add(candidate(doc, seed=seed))
    tray.select(1)
    seen = Recorder(tray)
    tray.discard()
    assert [c.seed for c in tray.candidates] == [1, 3]
    assert seen.events == [("removed", 1), ("selected", 1)] and tray.current.seed == 3
    tray.discard()
    assert tray.current.seed == 1
    tray.discard()
    assert len(tray) == 0 and tray.selected == -1
    tray.discard()  # nothing selected: nothing happens
    assert len(tray) == 0


def test_apply_places_the_result_at_its_frame_and_keeps_it_in_the_tray():
    doc = new_document(32, 24)
    tray = ResultTray()
    tray.add(candidate(doc, frame=Rect(4, 2, 10, 6), image=red(16, 8)))  # model-rounded size
    layer = tray.apply(doc).layer
    assert (layer.x, layer.y, layer.width, layer.height) == (4, 2, 10, 6)
    assert (layer.pixels[..., 0] > 200).all() and (layer.pixels[..., 3] == 255).all()
    assert layer.generation == {"prompt": "boat 1"}
    assert doc.undo_label == "Apply generation"
    assert len(tray) == 1


def test_apply_with_nothing_selected_does_nothing():
    doc = new_document(8, 8)
    assert ResultTray().apply(doc) is None
    assert len(doc.layers) == 2


def test_a_region_result_fits_only_the_document_it_was_made_for():
    made_for, other = new_document(8, 8), new_document(8, 8)
    with pytest.raises(RequestRefused, match="another document"):
        apply_candidate(other, candidate(made_for, mode="inpaint"))
    assert len(other.layers) == 2


def test_outpainting_grows_the_canvas_where_the_margins_say():
    assert outpainted_canvas((96, 64), (16, 0, 32, 8)) == ((144, 72), (1 / 3, 0.0))
    assert outpainted_canvas((10, 10), (0, 5, 0, 0)) == ((10, 15), (0.5, 1.0))
    assert outpainted_canvas((10, 10), (0, 0, 0, 0)) == ((10, 10), (0.5, 0.5))


def test_applying_an_outpainting_is_one_undo_step():
    doc = new_document(20, 10)
    c = candidate(doc, frame=doc.rect, mode="outpaint", outpaint=(4, 0, 0, 2), image=red(24, 12))
    layer = apply_candidate(doc, c).layer
    assert doc.size == (24, 12)
    assert (layer.x, layer.y, layer.width, layer.height) == (0, 0, 24, 12)
    assert (doc.layer(0).x, doc.layer(0).y) == (4, 0)  # the old canvas moved right
    doc.undo()
    assert doc.size == (20, 10) and len(doc.layers) == 2


def test_candidates_from_a_generation_and_an_erase_keep_their_target():
    doc = new_document(8, 8)
    target = ResultTarget("txt2img", Rect(1, 1, 4, 4), DocumentMark.of(doc))
    result = GenerationResult([red(4, 4), red(4, 4)],
                              [ImageInfo(s, 4, 4, {"prompt": "p", "seed": s}) for s in (5, 6)])
    made = generated_candidates(result, target)
    assert [(c.seed, c.label, c.frame) for c in made] == [
        (5, "seed 5", Rect(1, 1, 4, 4)), (6, "seed 6", Rect(1, 1, 4, 4))]
    assert made[0].description == "p"
    erased = erased_candidate(red(4, 4), "telea", ResultTarget("erase", doc.rect,
                                                               DocumentMark.of(doc)))
    assert (erased.label, erased.params) == ("erase", {"mode": "erase", "method": "telea"})
    assert np.asarray(erased.image).shape == (4, 4, 3)
