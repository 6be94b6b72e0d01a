"""Even motion on synthetic journeys: the steps are measured here again from
the returned times, so the test does not trust the function's own figures."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from artstudio.interpolation.even_motion import (
    even_motion_times,
    jump_ratio,
    linear_times,
    mean_abs_difference,
    place_by_distance,
)

rng = np.random.default_rng(7)
A, B, C = (rng.uniform(0, 255, (16, 16, 3)) for _ in range(3))


def jump_at(at: float, width: float = 0.01):
    """A picture that drifts slowly, then changes almost completely around t=at."""
    def render(t: float) -> np.ndarray:
        s = 1 / (1 + np.exp(-(t - at) / width))
        drift = 0.3 * t
        return (A * (1 - drift) + C * drift) * (1 - s) + B * s
    return render


def blend(t: float) -> np.ndarray:
    return A * (1 - t) + B * t


def measured_steps(render, times) -> list[float]:
    return [mean_abs_difference(render(a), render(b)) for a, b in pairwise(times)]


class Counted:
    def __init__(self, render):
        self.render, self.calls = render, []

    def __call__(self, t):
        self.calls.append(t)
        return self.render(t)


@pytest.mark.parametrize("n", [8, 24, 60])
@pytest.mark.parametrize("at", [0.7, 0.15])
def test_a_sudden_change_is_spread_over_many_frames(n, at):
    render = Counted(jump_at(at))
    result = even_motion_times(render, n)
    times = result.times
    assert len(times) == n
    assert times[0] == 0.0 and times[-1] == 1.0
    assert all(b > a for a, b in pairwise(times))
    steps = measured_steps(render.render, times)
    assert max(steps) <= 2 * np.median(steps)
    assert result.even
    # The same journey in equal steps of t jumps far beyond that.
    assert jump_ratio(measured_steps(render.render, linear_times(n))) > 5
    # Bounded work: the default budget, and every render counted.
    assert len(render.calls) == len(set(render.calls)) == result.renders
    assert result.renders <= max(5, n // 2 + 1) + 3 * n


def test_frames_cluster_where_the_picture_changes():
    times = even_motion_times(jump_at(0.7), 24).times
    near = sum(0.65 < t < 0.75 for t in times)
    assert near >= 12  # half the frames carry the change that equal t gives two


def test_an_accelerating_journey_is_evened_out():
    def render(t):  # slow start, fast end
        return blend(t ** 4)
    result = even_motion_times(render, 16)
    assert max(measured_steps(render, result.times)) <= 2 * np.median(
        measured_steps(render, result.times))
    assert jump_ratio(measured_steps(render, linear_times(16))) > 2


def test_a_steady_journey_keeps_equal_steps_cheaply():
    render = Counted(blend)
    result = even_motion_times(render, 12, coarse=7)
    assert np.allclose(result.times, linear_times(12), atol=1e-6)
    assert result.even
    assert result.renders <= 7 + 2 * 12


def test_a_true_cut_ends_within_the_budget_and_says_so():
    render = Counted(lambda t: A if t < 0.7 else B)
    result = even_motion_times(render, 20, max_renders=60)
    assert not result.even
    assert len(render.calls) <= 60
    assert len(result.times) == 20 and result.times[0] == 0 and result.times[-1] == 1
    assert sorted(result.times) == result.times


def test_a_small_budget_is_respected():
    render = Counted(jump_at(0.7))
    result = even_motion_times(render, 10, coarse=5, max_renders=18)
    assert len(render.calls) <= 18
    assert len(result.times) == 10
    # Even a small budget improves on equal steps.
    assert result.ratio < jump_ratio(measured_steps(render.render, linear_times(10)))


def test_no_motion_gives_equal_steps():
    result = even_motion_times(lambda t: A, 6)
    assert np.allclose(result.times, linear_times(6))
    assert result.even


def test_place_by_distance_inverts_the_cumulative_distance():
    # Length 3 over the first half, 1 over the second: 4 equal steps of 1.
    times = place_by_distance([0.0, 0.5, 1.0], [3.0, 1.0], 5)
    assert np.allclose(times, [0, 1 / 6, 2 / 6, 0.5, 1.0])
    # A still stretch gets no frames beyond what its sliver of t asks.
    times = place_by_distance([0.0, 0.5, 1.0], [0.0, 2.0], 3)
    assert np.allclose(times, [0.0, 0.75, 1.0], atol=1e-6)
    assert place_by_distance([0.0, 1.0], [0.0], 3) == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError):
        place_by_distance([0.0, 1.0], [1.0, 2.0], 3)


def test_jump_ratio():
    assert jump_ratio([1, 1, 4]) == 4
    assert jump_ratio([]) == 1.0
    assert jump_ratio([0, 0]) == 1.0
    assert jump_ratio([0, 0, 1]) == float("inf")


def test_one_frame_is_refused():
    with pytest.raises(ValueError, match="two frames"):
        even_motion_times(blend, 1)
