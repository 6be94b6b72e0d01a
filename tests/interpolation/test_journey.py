"""A journey's plan: slerp, where frames fall, and the refusals made before
any model loads."""

from __future__ import annotations

import math

import pytest
import torch

from artstudio.diffusion.params import GenerationParams
from artstudio.engine.errors import UserFacingError
from artstudio.interpolation.journey import (
    MAX_FRAMES,
    JourneyPlan,
    check_plan,
    ease,
    frames_for,
    places,
)
from artstudio.interpolation.maths import lerp, slerp


def plan(**kw) -> JourneyPlan:
    base = dict(generation=GenerationParams(model="m", width=64, height=64),
                prompts=("a fox",), seeds=(1, 2), frames=5)
    base.update(kw)
    return JourneyPlan(**base)


def test_slerp_keeps_the_norm_of_noise_where_a_linear_mix_loses_it():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 32, 32, generator=g), torch.randn(4, 32, 32, generator=g)
    b = b * (a.norm() / b.norm())  # two noises of one norm
    for t in (0.1, 0.25, 0.5, 0.9):
        assert math.isclose(float(slerp(a, b, t).norm()), float(a.norm()), rel_tol=1e-5)
    halfway = float(lerp(a, b, 0.5).norm()) / float(a.norm())
    assert halfway < 0.75  # independent noises: about 1/sqrt(2)
    assert torch.equal(slerp(a, b, 0.0), a) and torch.equal(slerp(a, b, 1.0), b)
    # unequal norms: the norm goes linearly from one to the other
    c = b * 2
    assert math.isclose(float(slerp(a, c, 0.5).norm()), 1.5 * float(a.norm()), rel_tol=1e-5)


def test_slerp_keeps_the_dtype_and_refuses_different_shapes():
    a = torch.randn(1, 4, 8, 8, dtype=torch.float16)
    assert slerp(a, torch.randn(1, 4, 8, 8, dtype=torch.float16), 0.3).dtype == torch.float16
    with pytest.raises(ValueError, match="one shape"):
        slerp(a, torch.randn(1, 4, 8, 9), 0.5)


def test_every_keyframe_falls_on_a_frame():
    p = places(plan(seeds=(1, 2, 3), frames=8))
    assert (p[0].a, p[0].t) == (0, 0.0)
    assert (p[-1].b, p[-1].t) == (2, 1.0)
    at_keyframes = [x for x in p if x.t in (0.0, 1.0)]
    assert {x.a for x in at_keyframes if x.t == 0.0} == {0, 1}
    ts = [(x.a, x.t) for x in p]
    assert ts == sorted(ts)  # forward through the journey


def test_a_loop_heads_back_to_the_first_keyframe_without_repeating_it():
    p = places(plan(seeds=(1, 2), frames=6, loop=True))
    assert [(x.a, x.b) for x in p] == [(0, 1)] * 3 + [(1, 0)] * 3
    assert [x.t for x in p] == pytest.approx([0, 1 / 3, 2 / 3, 0, 1 / 3, 2 / 3])


def test_ease_in_out_lingers_at_the_keyframes():
    assert ease("ease-in-out", 0.0) == 0.0 and ease("ease-in-out", 1.0) == 1.0
    assert ease("ease-in-out", 0.5) == pytest.approx(0.5)
    assert ease("ease-in-out", 0.1) < 0.1 and ease("ease-in-out", 0.9) > 0.9
    linear = [x.t for x in places(plan(frames=5))]
    eased = [x.t for x in places(plan(frames=5, ease="ease-in-out"))]
    assert linear == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert eased[1] < linear[1] and eased[3] > linear[3]


def test_frames_from_a_duration():
    assert frames_for(None, 2.0, 12) == 24
    assert frames_for(30, None, 12) == 30
    with pytest.raises(UserFacingError, match="not both"):
        frames_for(30, 2.0, 12)
    with pytest.raises(UserFacingError, match="per second"):
        frames_for(30, None, 0)


@pytest.mark.parametrize(("kw", "said"), [
    (dict(seeds=(1,)), "at least two keyframes"),
    (dict(frames=0), "at least one frame per keyframe, not 0"),
    (dict(frames=MAX_FRAMES + 1), f"more than the {MAX_FRAMES}"),
    (dict(ease="bounce"), "Unknown easing 'bounce'"),
    (dict(prompts=("a", "b"), seeds=(1, 2, 3)), "as many seeds as prompts"),
    (dict(seeds=(1, 2, 3), frames=2), "cannot show 3 keyframes"),
    (dict(seeds=(1, 2**32)), "A seed must be between 0"),
    (dict(images=(object(), None)), "two pictures"),
])
def test_bad_plans_are_refused_in_one_line(kw, said):
    with pytest.raises(UserFacingError, match=None) as caught:
        check_plan(plan(**kw))
    assert said in str(caught.value)
    assert "\n" not in str(caught.value)
