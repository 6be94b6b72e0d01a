"""The plan of a journey: keyframes, how many frames, where each frame lies
between two keyframes, and the checks made before any model loads.

A keyframe is a (seed, prompt) pair, or one of two pictures for a morph.
With one prompt and several seeds it is seed travel, with one seed and
several prompts prompt travel, with as many of each both at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from artstudio.diffusion.params import GenerationParams, check_params
from artstudio.engine.errors import UserFacingError

EASINGS = ("linear", "ease-in-out")
MAX_FRAMES = 2000  # about 80 s at 24 fps; beyond that a journey is better cut into parts
MAX_FPS = 120.0


def ease(name: str, t: float) -> float:
    """Where a frame lies between its two keyframes once eased: ease-in-out
    lingers at the keyframes (half a cosine), so a loop has no sudden turn."""
    if name == "linear":
        return t
    if name == "ease-in-out":
        return (1.0 - math.cos(math.pi * t)) / 2.0
    raise UserFacingError(f"Unknown easing {name!r}; choose one of {', '.join(EASINGS)}.")


@dataclass(frozen=True)
class Keyframe:
    seed: int
    prompt: str


@dataclass(frozen=True)
class FramePlace:
    """One frame's place: between keyframes `a` and `b` (indices), at `t`
    (0 at `a`, 1 at `b`) after easing; `linear_t` before it."""

    index: int
    a: int
    b: int
    t: float
    linear_t: float


@dataclass(frozen=True)
class JourneyPlan:
    """One journey, snapshotted before its job starts. `generation` holds the
    settings every frame shares (model, steps, size, sampler...); its prompt
    and seed are ignored in favour of `prompts` and `seeds`."""

    generation: GenerationParams
    prompts: tuple[str, ...]
    seeds: tuple[int, ...]
    frames: int
    ease: str = "linear"
    loop: bool = False  # the last frame leads back into the first
    images: tuple[Any, Any] | None = None  # picture morph: two PIL RGB images
    strength: float = 0.0  # morph: an image-to-image pass of this strength per frame (0: none)
    batch_size: int = 0  # frames per pipeline call; 0: as many as memory allows
    # each frame's place between two keyframes when chosen, not eased (even motion)
    times: tuple[float, ...] | None = None

    @property
    def keyframes(self) -> list[Keyframe]:
        count = 2 if self.images is not None else max(len(self.prompts), len(self.seeds))
        def pick(values, i):
            return values[i] if len(values) > 1 else values[0]
        return [Keyframe(pick(self.seeds, i), pick(self.prompts, i)) for i in range(count)]

    def keyframe_params(self, key: Keyframe) -> GenerationParams:
        return replace(self.generation, prompt=key.prompt, seed=key.seed, count=1,
                       seed_mode="fixed")


def frames_for(frames: int | None, duration: float | None, fps: float) -> int:
    """A frame count given directly or as a duration at `fps`."""
    if not (math.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise UserFacingError(f"Frames per second must be above 0 and at most {MAX_FPS:g}, "
                              f"not {fps:g}.")
    if duration is not None:
        if frames is not None:
            raise UserFacingError("Give a frame count or a duration, not both.")
        if not (math.isfinite(duration) and duration > 0):
            raise UserFacingError(f"The duration must be above 0 seconds, not {duration:g}.")
        return max(1, round(duration * fps))
    if frames is None:
        raise UserFacingError("Give a frame count (or a duration and a frame rate).")
    return frames


def check_plan(plan: JourneyPlan) -> None:
    """One-line refusals before any model loads."""
    if plan.images is not None:
        if len(plan.images) != 2 or any(im is None for im in plan.images):
            raise UserFacingError("A picture morph needs two pictures.")
        if not plan.prompts or not plan.seeds:
            raise UserFacingError("A picture morph needs a prompt and a seed for its "
                                  "image-to-image pass.")
        if not 0.0 <= plan.strength < 1.0:
            raise UserFacingError(f"The morph's strength must be 0 or more and below 1, "
                                  f"not {plan.strength:g}.")
    else:
        if not plan.prompts or not plan.seeds:
            raise UserFacingError("A journey needs at least one prompt and one seed.")
        if len(plan.prompts) > 1 and len(plan.seeds) > 1 and \
                len(plan.prompts) != len(plan.seeds):
            raise UserFacingError(
                f"Give one seed, one prompt, or as many seeds as prompts (there are "
                f"{len(plan.prompts)} prompts and {len(plan.seeds)} seeds).")
        if len(plan.keyframes) < 2:
            raise UserFacingError("A journey needs at least two keyframes: two seeds, two "
                                  "prompts or two pictures.")
    ease(plan.ease, 0.0)
    if plan.frames < 1:
        raise UserFacingError(f"A journey needs at least one frame per keyframe, not "
                              f"{plan.frames} frames.")
    if plan.frames > MAX_FRAMES:
        raise UserFacingError(f"{plan.frames} frames is more than the {MAX_FRAMES} a journey "
                              "can hold; make several shorter journeys.")
    keys = len(plan.keyframes)
    if plan.times is not None:
        if keys != 2 or plan.loop:
            raise UserFacingError("Even motion works between two keyframes, without a loop.")
        if len(plan.times) != plan.frames or any(not 0 <= t <= 1 for t in plan.times):
            raise UserFacingError("Chosen frame places must be one per frame, from 0 to 1.")
    elif plan.frames < keys:
        raise UserFacingError(f"{plan.frames} frames cannot show {keys} keyframes; give at "
                              f"least {keys}.")
    if plan.batch_size < 0:
        raise UserFacingError("The batch size cannot be negative.")
    for key in plan.keyframes:
        check_params(plan.keyframe_params(key))


def places(plan: JourneyPlan) -> list[FramePlace]:
    """Each frame's place. Every keyframe falls on a frame; a loop's last
    segment runs from the last keyframe back towards the first, whose frame
    is not repeated (so the sequence plays seamlessly on repeat)."""
    if plan.times is not None:
        return [FramePlace(i, 0, 1, t, t) for i, t in enumerate(plan.times)]
    keys = len(plan.keyframes)
    segments = keys if plan.loop else keys - 1
    span = plan.frames if plan.loop else plan.frames - 1
    # the frame index of each keyframe; a loop's closing one lies one past the end
    starts = [round(k * span / segments) for k in range(segments + 1)]
    out = []
    for index in range(plan.frames):
        seg = max(k for k in range(segments) if starts[k] <= index)
        linear = (index - starts[seg]) / (starts[seg + 1] - starts[seg])
        out.append(FramePlace(index, seg, (seg + 1) % keys, ease(plan.ease, linear), linear))
    return out
