"""Small helpers shared by the document tests."""

from __future__ import annotations

import numpy as np
import pytest
from autosave_crash import crash

from artstudio.document import Document


def solid(w: int, h: int, rgba: tuple[int, int, int, int]) -> np.ndarray:
    px = np.empty((h, w, 4), np.uint8)
    px[...] = rgba
    return px


def noise(w: int, h: int, seed: int = 0, opaque: bool = False) -> np.ndarray:
    px = np.random.default_rng(seed).integers(0, 256, (h, w, 4), dtype=np.uint8)
    if opaque:
        px[..., 3] = 255
    return px


@pytest.fixture
def doc() -> Document:
    """A 64 x 48 document with an opaque background and a half-transparent layer."""
    d = Document(64, 48)
    d.add_layer(noise(64, 48, 1, opaque=True), name="Background")
    d.add_layer(noise(40, 30, 2), name="Top", x=10, y=8, opacity=0.7, blend="svg:multiply")
    d.clear_history()
    d.mark_saved()
    return d


def snapshot(d: Document) -> dict:
    """Everything a document shows, for exact before/after comparisons."""
    return {
        "size": d.size,
        "layers": [(l.pixels.copy(), l.props(), l.uid) for l in d.layers],  # noqa: E741
        "mask": d.mask.copy(),
        "frame": d.frame,
        "active": d.active_index,
    }


def assert_same(a: dict, b: dict) -> None:
    assert a["size"] == b["size"]
    assert a["frame"] == b["frame"]
    assert a["active"] == b["active"]
    assert np.array_equal(a["mask"], b["mask"])
    assert len(a["layers"]) == len(b["layers"])
    for (pa, ra, ua), (pb, rb, ub) in zip(a["layers"], b["layers"], strict=True):
        assert ua == ub
        assert ra == rb
        assert pa.shape == pb.shape and np.array_equal(pa, pb)


@pytest.fixture(autouse=True)
def _no_autosave_owned_after_the_test():
    yield
    crash()
