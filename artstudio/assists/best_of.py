"""Best-of-N: the candidates of one generation scored by CLIP and the K best
kept, each with its score and rank in its metadata. Scoring is a job of its
own (`score_job`), run on the engine's pool lane after the generation is
done, so it never holds the generation lane; it only reads pixels."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from artstudio.assists.local_models import CLIP, find_local, resolve, search_roots
from artstudio.assists.ranking import ClipScorer, best_order


@dataclass(frozen=True)
class ScoreRequest:
    images: tuple  # PIL images, copies taken when the request was made
    prompt: str
    clip: str | None = None  # a CLIP folder; None: the first found
    device: str = "cpu"  # the pool's device: the accelerator stays with generation


@dataclass(frozen=True)
class Ranking:
    scores: tuple[float, ...]  # per candidate, in generation order
    model: str  # the CLIP folder's name

    @property
    def order(self) -> list[int]:
        """Candidate indices, best first."""
        return best_order(self.scores)

    def rank_of(self, index: int) -> int:
        return self.order.index(index) + 1


def clip_folder(path: str | os.PathLike | None) -> Path | None:
    """The CLIP folder to rank with: the one named (UserFacingError when it is
    not a CLIP model), else the first found; None when none is found."""
    if path:
        return resolve(CLIP, path)
    found = find_local(CLIP)
    return found[0] if found else None


def no_clip_note(count: int) -> str:
    where = " or ".join(str(r) for r in search_roots(CLIP))
    return (f"No CLIP model was found in {where}, so the {count} images are not ranked; "
            "put a transformers CLIP folder there to rank them.")


@lru_cache(maxsize=1)  # one CLIP kept between rankings: N candidates, then N more
def _scorer(folder: str, device: str) -> ClipScorer:
    return ClipScorer.load(folder, device)


def score_job(request: ScoreRequest, progress, cancel) -> Ranking:
    """The engine job: load (or reuse) the CLIP model and score every candidate."""
    folder = clip_folder(request.clip)
    if folder is None:
        from artstudio.engine.errors import UserFacingError

        raise UserFacingError(no_clip_note(len(request.images)))
    progress(0, 2, "Loading CLIP")
    scorer = _scorer(str(folder), request.device)
    cancel.raise_if_cancelled()
    progress(1, 2, f"Ranking {len(request.images)} images")
    scores = scorer.scores(list(request.images), request.prompt)
    progress(2, 2, "Ranked")
    return Ranking(tuple(scores), folder.name)


def rank_metadata(ranking: Ranking, index: int) -> dict:
    return {"clip_score": ranking.scores[index],
            "rank": [ranking.rank_of(index), len(ranking.scores)],
            "clip_model": ranking.model}


def keep_best(result, ranking: Ranking, k: int):
    """A GenerationResult of the `k` best images of `result`, best first, each
    image the very object generated, its metadata given its score and rank."""
    keep: Sequence[int] = ranking.order[:k]
    infos = [dataclasses.replace(result.infos[i], metadata={
        **result.infos[i].metadata, **rank_metadata(ranking, i)}) for i in keep]
    repaints = [result.repaints[i] for i in keep] if result.repaints else []
    return dataclasses.replace(result, images=[result.images[i] for i in keep], infos=infos,
                               repaints=repaints)


def ranked_candidates(candidates: Sequence, ranking: Ranking, k: int) -> tuple[list, list]:
    """(the K best, the rest), each best first, as tray Candidates whose
    params carry their score and rank; images untouched."""
    ranked = [dataclasses.replace(candidates[i], params={
        **candidates[i].params, **rank_metadata(ranking, i)}) for i in ranking.order]
    return ranked[:k], ranked[k:]


def restage(tray, batch: Sequence, shown: Sequence) -> None:
    """In the staging tray `tray`, the candidates of `batch` (those still
    there: the artist may have discarded some meanwhile) replaced by `shown`
    in rank order, the best selected."""
    kept = {id(c) for c in tray.candidates}
    present = [c for c in batch if id(c) in kept]
    gone = {c.seed for c in batch if id(c) not in kept}
    for candidate in present:
        tray.select(next(i for i, c in enumerate(tray.candidates) if c is candidate))
        tray.discard()
    first = None
    for candidate in shown:
        if candidate.seed not in gone:
            index = tray.add(candidate)
            first = index if first is None else first
    if first is not None:
        tray.select(first)
