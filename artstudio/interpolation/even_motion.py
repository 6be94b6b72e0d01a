"""Even motion: where to put a journey's in-between frames so it moves steadily.

Equal steps in t rarely look equal: a journey can idle for half its length
and then change completely in a few frames. Even motion measures how much
the picture changes along t (a distance between small renders, e.g. the mean
absolute pixel difference of thumbnails), treats the running total of those
distances as the journey's length, and places the frames at equal lengths,
i.e. it inverts the cumulative distance (arc-length reparametrisation).

The distances are only known where something was rendered, so the length is
refined where it matters: an interval between two renders that holds more
than a frame step is split, and after placing the frames the steps between
them are measured; a step still over `ratio` times the median gets its
interval split and the frames are placed again. Every render counts against
`max_renders`, so the cost is bounded; a true cut in the journey (a change no
in-between frame can soften) ends the search with `even` False.

Pure functions on numbers and arrays: `render(t)` returns any array (a
thumbnail), nothing here knows about models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

RATIO = 2.0
MIN_GAP = 1e-4  # intervals in t narrower than this are not split further


def mean_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-shaped arrays (pixels 0..255)."""
    return float(np.mean(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))


def linear_times(n_frames: int) -> list[float]:
    return np.linspace(0.0, 1.0, n_frames).tolist()


def jump_ratio(steps: Sequence[float]) -> float:
    """The largest step over the median step (1.0 for no steps or no motion)."""
    if len(steps) == 0:
        return 1.0
    largest, median = float(np.max(steps)), float(np.median(steps))
    if median <= 0:
        return 1.0 if largest <= 0 else float("inf")
    return largest / median


def place_by_distance(sample_t: Sequence[float], distances: Sequence[float],
                      n_frames: int) -> list[float]:
    """t of `n_frames` frames at equal cumulative distance, from renders at
    `sample_t` (sorted, 0 first, 1 last) and the distance between each
    consecutive pair (one fewer). Between samples the distance is taken as
    growing linearly with t. The first and last frames stay at 0 and 1."""
    t = np.asarray(sample_t, float)
    d = np.maximum(np.asarray(distances, float), 0.0)
    if len(d) != len(t) - 1:
        raise ValueError("need one distance per pair of consecutive samples")
    length = np.concatenate([[0.0], np.cumsum(d)])
    total = length[-1]
    if total <= 0:
        return linear_times(n_frames)
    # A sliver of t keeps the curve strictly increasing where nothing changes,
    # so frames spread evenly over a still stretch instead of piling up.
    length = length + 1e-9 * total * (t - t[0])
    targets = np.linspace(0.0, length[-1], n_frames)
    times = np.interp(targets, length, t)
    times[0], times[-1] = t[0], t[-1]
    return times.tolist()


@dataclass(frozen=True)
class EvenMotion:
    times: list[float]  # t of every frame, 0 first and 1 last
    steps: list[float]  # the measured distance between consecutive frames
    renders: int  # how many times `render` was called
    even: bool  # no step is more than `ratio` times the median step

    @property
    def ratio(self) -> float:
        return jump_ratio(self.steps)


class _Renders:
    """Renders by t, each made once, within a budget."""

    def __init__(self, render: Callable[[float], np.ndarray], budget: int) -> None:
        self._render, self.budget, self.done = render, budget, {}

    def get(self, t: float) -> np.ndarray:
        if t not in self.done:
            self.done[t] = self._render(t)
        return self.done[t]

    def can_afford(self, count: int) -> bool:
        return len(self.done) + count <= self.budget


def even_motion_times(render: Callable[[float], np.ndarray], n_frames: int, *,
                      distance: Callable[[np.ndarray, np.ndarray], float] = mean_abs_difference,
                      coarse: int | None = None, ratio: float = RATIO,
                      max_renders: int | None = None) -> EvenMotion:
    """Frame times for a journey of `n_frames` whose largest step is at most
    `ratio` times the median step, when the journey allows it.

    `coarse` renders (default: about half the frames, at least 5) measure the
    journey evenly in t first; refinement then renders more where the motion
    is fast, up to `max_renders` in all (default: coarse + 3 * n_frames; never fewer
    than coarse + n_frames, what one placement needs).
    """
    if n_frames < 2:
        raise ValueError("even motion needs at least two frames")
    coarse = max(5, n_frames // 2 + 1) if coarse is None else max(2, coarse)
    budget = coarse + 3 * n_frames if max_renders is None else max_renders
    budget = max(budget, coarse + n_frames)  # room for the first placement
    renders = _Renders(render, budget)
    gaps: dict[tuple[float, float], float] = {}

    def dist(a: float, b: float) -> float:
        if (a, b) not in gaps:
            gaps[(a, b)] = distance(renders.get(a), renders.get(b))
        return gaps[(a, b)]

    def samples() -> tuple[list[float], list[float]]:
        ts = sorted(renders.done)
        return ts, [dist(a, b) for a, b in pairwise(ts)]

    for t in linear_times(coarse):
        renders.get(t)
    best: EvenMotion | None = None
    while True:
        _refine_long_intervals(renders, samples, n_frames)
        ts, ds = samples()
        times = place_by_distance(ts, ds, n_frames)
        if not renders.can_afford(sum(t not in renders.done for t in times)):
            break
        steps = [dist(a, b) for a, b in pairwise(times)]
        result = EvenMotion(times, steps, len(renders.done), jump_ratio(steps) <= ratio)
        if best is None or result.ratio < best.ratio:
            best = result
        if result.even:
            return result
        median = float(np.median(steps))
        split = [(a + b) / 2 for a, b, step in zip(times, times[1:], steps, strict=False)
                 if step > ratio * median and b - a > MIN_GAP]
        if not split or not renders.can_afford(len(split)):
            break
        for t in split:
            renders.get(t)
    assert best is not None  # the budget always covers the first placement
    return EvenMotion(best.times, best.steps, len(renders.done), best.even)


def _refine_long_intervals(renders: _Renders, samples, n_frames: int) -> None:
    """Split sample intervals holding more than one frame step of distance,
    so the placement interpolates only inside intervals it has measured finely."""
    while True:
        ts, ds = samples()
        step = sum(ds) / (n_frames - 1)
        if step <= 0:
            return
        split = [(a + b) / 2 for a, b, d in zip(ts, ts[1:], ds, strict=False)
                 if d > step and b - a > MIN_GAP]
        if not split or not renders.can_afford(len(split) + n_frames):
            return
        for t in split:
            renders.get(t)
