"""The window's side of a journey without a window: frames kept on disk and
read back with their parameters, keyframes typed as text, frames as layers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.params import GenerationParams
from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.engine.errors import UserFacingError
from artstudio.interpolation.frame_layers import frame_to_layer, frames_to_layers
from artstudio.interpolation.frame_store import FrameStore
from artstudio.interpolation.frames import Frame
from artstudio.interpolation.journey import JourneyPlan
from artstudio.interpolation.journey_job import check_journey
from artstudio.interpolation.keyframe_text import (
    keyframes_of_results,
    parse_prompts,
    parse_seeds,
)


def frame(index: int, size=(24, 16)) -> Frame:
    rng = np.random.default_rng(index)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    return Frame(index, Image.fromarray(pixels), {"prompt": "a fox", "seed": index,
                                                  "interpolation": {"frame": index}})


def test_store_gives_back_each_frame_and_its_parameters(tmp_path):
    store = FrameStore(planned=3, folder=tmp_path)
    made = [frame(i) for i in range(3)]
    assert [store.add(f) for f in made] == [0, 1, 2]
    assert len(store) == 3 and store.complete
    for original, back in zip(made, store, strict=True):
        assert np.array_equal(np.asarray(original.image), np.asarray(back.image))
        assert back.params == original.params
    with pytest.raises(IndexError):
        store.frame(3)
    folder = store.folder
    assert folder.is_dir()
    store.close()
    assert not folder.exists()


def test_store_of_a_cancelled_journey_says_how_far_it_got(tmp_path):
    store = FrameStore(planned=10, folder=tmp_path)
    store.add(frame(0))
    store.cancelled = True
    assert not store.complete
    assert store.describe() == "1 of 10 frames (the journey was cancelled)"


def test_seeds_and_prompts_as_typed():
    assert parse_seeds(" 1, 2 3;4 ") == (1, 2, 3, 4)
    assert parse_seeds("") == ()
    for bad in ("1, -2", "1, two", "99999999999"):
        with pytest.raises(UserFacingError, match="is not a seed"):
            parse_seeds(bad)
    assert parse_prompts("a fox\n\n  a whale \n") == ("a fox", "a whale")


class Staged:
    def __init__(self, seed, prompt):
        self.seed, self.params = seed, {"prompt": prompt}


def test_staged_results_become_keyframes():
    same = [Staged(4, "a fox"), Staged(None, "a fox"), Staged(5, "a fox")]
    assert keyframes_of_results(same) == ((4, 5), ("a fox",))
    different = [Staged(4, "a fox"), Staged(5, "a whale")]
    assert keyframes_of_results(different) == ((4, 5), ("a fox", "a whale"))


def test_even_motion_is_refused_where_it_cannot_work():
    g = GenerationParams(model="m", width=64, height=64)
    two = JourneyPlan(g, prompts=("a",), seeds=(1, 2), frames=6)
    check_journey(two, even=True)
    for plan, message in (
            (JourneyPlan(g, prompts=("a",), seeds=(1, 2, 3), frames=6), "two keyframes"),
            (JourneyPlan(g, prompts=("a",), seeds=(1, 2), frames=6, loop=True), "without a loop"),
            (JourneyPlan(g, prompts=("a",), seeds=(1,), frames=6,
                         images=(Image.new("RGB", (8, 8)),) * 2), "picture morph")):
        with pytest.raises(UserFacingError, match=message):
            check_journey(plan, even=True)


def test_frames_become_layers_in_the_frame_at_their_size():
    doc = new_document(64, 48)
    doc.set_frame(Rect(8, 4, 40, 40))
    layer = frame_to_layer(doc, frame(2), count=12)
    # 24x16 fits in the 40x40 frame: at its own size, centred
    assert (layer.x, layer.y, layer.width, layer.height) == (16, 16, 24, 16)
    assert np.array_equal(layer.pixels[..., :3], np.asarray(frame(2).image))
    assert layer.name == "Journey frame 003"
    assert layer.generation["seed"] == 2
    before = len(doc.layers)
    layers = frames_to_layers(doc, [frame(i) for i in range(4)], count=4)
    assert len(doc.layers) == before + 4
    assert [doc.index_of(la.uid) for la in layers] == list(range(before, before + 4))
    assert doc.undo_label == "Journey frames as layers"
    doc.undo()
    assert len(doc.layers) == before
