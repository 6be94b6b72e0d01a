"""The staging tray after a ranking: the best K first, in score order, their
score and rank in what the layer remembers, pixels untouched; a result the
artist discarded while the ranking ran stays discarded."""

from __future__ import annotations

import numpy as np
from PIL import Image

from artstudio.assists.best_of import Ranking, ranked_candidates, restage
from artstudio.diffusion.results import Candidate, ResultTarget, ResultTray
from artstudio.document import Rect
from artstudio.document.create import new_document
from artstudio.document.staleness import DocumentMark


def _batch(n: int) -> list[Candidate]:
    target = ResultTarget("txt2img", Rect(0, 0, 8, 8), DocumentMark.of(new_document(8, 8)))
    return [Candidate(Image.new("RGB", (8, 8), (i * 40, 0, 0)), {"prompt": "fox"}, target,
                      seed=100 + i) for i in range(n)]


def test_the_tray_shows_the_best_first_and_keeps_a_discard():
    tray = ResultTray()
    earlier = _batch(1)[0]
    tray.add(earlier)
    batch = _batch(4)
    for candidate in batch:
        tray.add(candidate)
    tray.select(2)  # batch[1], discarded by the artist while CLIP scored
    tray.discard()
    ranking = Ranking((10.0, 30.0, 20.0, 25.0), "tiny-clip")
    shown, rest = ranked_candidates(batch, ranking, 3)
    restage(tray, batch, shown)
    assert tray.candidates[0] is earlier
    assert [c.seed for c in tray.candidates[1:]] == [103, 102]  # 101 stays discarded
    assert [c.params["rank"] for c in tray.candidates[1:]] == [[2, 4], [3, 4]]
    assert tray.candidates[1].label == "seed 103 · 25.0"
    assert tray.selected == 1
    assert [c.seed for c in rest] == [100]
    for candidate in tray.candidates[1:]:
        original = next(c for c in batch if c.seed == candidate.seed)
        assert candidate.image is original.image
        assert np.array_equal(np.asarray(candidate.image), np.asarray(original.image))
