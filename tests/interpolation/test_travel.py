"""Seed travel, prompt travel and picture morphs with the tiny models: the
keyframes are what `generate` makes, frames are repeatable, batching changes
nothing, and a cancelled journey keeps what it made."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.generate import run as generate
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import CancelToken
from artstudio.engine.engine import Engine
from artstudio.engine.jobs import JobKind, JobState, Lane
from artstudio.interpolation import travel
from artstudio.interpolation.journey import JourneyPlan
from artstudio.interpolation.travel import FrameStream


def pixels(image) -> np.ndarray:
    return np.asarray(image).astype(int)


def max_diff(a, b) -> int:
    return int(np.abs(pixels(a) - pixels(b)).max())


def mean_diff(a, b) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


def settings(model, **kw) -> GenerationParams:
    base = dict(model=str(model), steps=2, width=64, height=64, scheduler="euler",
                preview_every=0)
    base.update(kw)
    return GenerationParams(**base)


def generated(g: GenerationParams, prompt: str, seed: int):
    return generate(replace(g, prompt=prompt, seed=seed), lambda *a, **k: None,
                    CancelToken()).images[0]


@pytest.mark.parametrize("kind", ["sd1", "sd1-inpaint", "sdxl-base"])
def test_first_and_last_frames_are_what_generate_makes(tiny, kind):
    g = settings(tiny[kind]["diffusers"])
    plan = JourneyPlan(g, prompts=("a red fox", "a blue whale"), seeds=(3, 9), frames=5)
    frames = list(FrameStream(plan))
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    a, b = generated(g, "a red fox", 3), generated(g, "a blue whale", 9)
    assert mean_diff(a, b) > 10  # the two keyframes differ, so the check means something
    assert max_diff(frames[0].image, a) <= 2
    assert max_diff(frames[-1].image, b) <= 2
    assert all(mean_diff(frames[i].image, a) > 2 for i in (1, 2, 3))


def test_same_parameters_give_identical_frames_and_batching_changes_nothing(tiny):
    g = settings(tiny["sd1"]["single"])
    plan = JourneyPlan(g, prompts=("a lighthouse",), seeds=(1, 2, 3), frames=7, batch_size=3)
    first = [pixels(f.image) for f in FrameStream(plan)]
    again = [pixels(f.image) for f in FrameStream(plan)]
    single = [pixels(f.image) for f in FrameStream(replace(plan, batch_size=1))]
    assert all(np.array_equal(x, y) for x, y in zip(first, again, strict=True))
    assert max(int(np.abs(x - y).max()) for x, y in zip(first, single, strict=True)) <= 2
    # the middle keyframe (seed 2) is a frame too
    middle = Image.fromarray(first[3].astype(np.uint8))
    assert max_diff(middle, generated(g, "a lighthouse", 2)) <= 2


def test_batches_are_one_pipeline_call_for_several_frames(tiny, monkeypatch):
    calls = []
    real = travel.denoise

    def counting(*args, **kwargs):
        calls.append(kwargs["overrides"]["latents"].shape[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(travel, "denoise", counting)
    plan = JourneyPlan(settings(tiny["sd1"]["diffusers"]), prompts=("x",), seeds=(1, 2),
                       frames=10, batch_size=4)
    assert len(list(FrameStream(plan))) == 10
    assert calls == [4, 4, 2]


def test_prompt_travel_mixes_every_text_encoder_output_from_one_prompt_to_the_other(
        tiny, monkeypatch):
    """The tiny models' tokenizer reads every word as one token, so two prompts
    encode alike; prompt B's outputs are shifted here to make them differ.
    Every output SDXL's encoders make (pooled and negative included) then runs
    from prompt A's to prompt B's, and the pictures follow."""
    import torch

    real_encode, real_denoise, given = travel.encode, travel.denoise, []

    def encode(model, pipe, prompt, negative, cfg):
        out = real_encode(model, pipe, prompt, negative, cfg)
        if prompt == "B":
            g = torch.Generator().manual_seed(1)
            out = {k: v + 2 * torch.randn(v.shape, generator=g).to(v) for k, v in out.items()}
        return out

    def denoise(*args, **kwargs):
        given.append({k: v.clone() for k, v in kwargs["overrides"].items()
                      if k.endswith("_embeds")})
        return real_denoise(*args, **kwargs)

    monkeypatch.setattr(travel, "encode", encode)
    monkeypatch.setattr(travel, "denoise", denoise)
    g = settings(tiny["sdxl-base"]["diffusers"], negative_prompt="blurry")
    plan = JourneyPlan(g, prompts=("A", "B"), seeds=(5,), frames=5, batch_size=5)
    frames = [f.image for f in FrameStream(plan)]
    assert max_diff(frames[0], generated(g, "A", 5)) <= 2
    embeds = given[0]
    assert set(embeds) == {"prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
                           "negative_pooled_prompt_embeds"}
    for e in embeds.values():
        assert not torch.equal(e[0], e[-1])
        assert torch.allclose(e[2], (e[0] + e[-1]) / 2, atol=1e-5)  # halfway is the mean
    to_a = [mean_diff(f, frames[0]) for f in frames]
    to_b = [mean_diff(f, frames[-1]) for f in frames]
    assert to_a[-1] > 2  # B's picture differs from A's
    assert to_a == sorted(to_a) and to_b == sorted(to_b, reverse=True)


def test_every_frame_carries_its_parameters(tiny):
    plan = JourneyPlan(settings(tiny["sd1"]["diffusers"]), prompts=("a", "b"), seeds=(4,),
                       frames=3, ease="ease-in-out")
    frames = list(FrameStream(plan))
    meta = frames[1].params
    assert meta["seed"] == 4 and meta["steps"] == 2 and meta["width"] == 64
    assert meta["interpolation"]["t"] == pytest.approx(0.5)
    assert meta["interpolation"]["prompt_a"] == "a" and meta["interpolation"]["prompt_b"] == "b"
    assert meta["interpolation"]["ease"] == "ease-in-out"
    assert frames[-1].params["prompt"] == "b"


def test_a_sampler_that_adds_noise_runs_as_its_deterministic_counterpart(tiny):
    g = settings(tiny["sd1"]["diffusers"], scheduler="euler_a")
    stream = FrameStream(JourneyPlan(g, prompts=("x",), seeds=(1, 2), frames=3))
    frames = list(stream)
    assert any("Euler a adds fresh noise" in n for n in stream.notes)
    assert frames[0].params["scheduler"] == "euler"
    assert max_diff(frames[0].image, generated(replace(g, scheduler="euler"), "x", 1)) <= 2


def test_a_journey_is_one_engine_job_that_keeps_its_frames_when_cancelled(tiny):
    plan = JourneyPlan(settings(tiny["sd1"]["diffusers"], steps=3), prompts=("x",),
                       seeds=(1, 2), frames=6, batch_size=1)
    engine = Engine(pool_workers=1)
    try:
        events, kept = [], []
        engine.subscribe(events.append)

        def on_frame(frame):
            kept.append(frame)
            if len(kept) == 2:
                handle.cancel()

        handle = engine.submit(lambda p, pr, c: travel.run(p, pr, c, on_frame), plan,
                               kind=JobKind.GENERATE, lane=Lane.ACCELERATOR, title="journey")
        assert handle.wait(120) is JobState.CANCELLED
        assert [f.index for f in kept] == [0, 1]
        assert handle.result.frames == 2 and handle.result.cancelled
        messages = {e.progress.message for e in events if e.progress}
        assert "Frame 1 of 6" in messages
        done = engine.submit(travel.run, replace(plan, frames=2), lane=Lane.ACCELERATOR)
        assert done.wait(120) is JobState.DONE and done.result.frames == 2
    finally:
        engine.shutdown()


def test_cancelling_within_a_step_keeps_the_whole_frames(tiny):
    plan = JourneyPlan(settings(tiny["sd1"]["diffusers"], steps=4), prompts=("x",),
                       seeds=(1, 2), frames=6, batch_size=2)
    cancel = CancelToken()
    seen = []

    def progress(step, total, message="", preview=None):
        seen.append(step)
        if step > 9:  # inside the second batch (steps 8..16)
            cancel.cancel()

    stream = FrameStream(plan, progress, cancel)
    frames = list(stream)
    assert [f.index for f in frames] == [0, 1]
    assert stream.cancelled and stream.made == 2
    assert max(seen) <= 12  # stopped within one step of the request


def test_a_picture_morph_runs_from_one_picture_to_the_other(tiny):
    from artstudio.diffusion.loading import get_model
    from artstudio.diffusion.sampling import decode_latents
    from artstudio.interpolation.morph import encode_picture, fit_pictures

    rng = np.random.default_rng(0)
    a = Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8))
    b = Image.fromarray(rng.integers(0, 255, (48, 80, 3), np.uint8))
    g = settings(tiny["sd1"]["diffusers"])
    stream = FrameStream(JourneyPlan(g, prompts=("x",), seeds=(1,), frames=5, images=(a, b)))
    frames = [f.image for f in stream]
    assert any("80x48" in n and "fitted to 64x64" in n for n in stream.notes)
    model = get_model(g.model)
    fa, fb, _ = fit_pictures(a, b, 64, 64)
    ends = [decode_latents(model, encode_picture(model, im))[0] for im in (fa, fb)]
    assert max_diff(frames[0], ends[0]) <= 2 and max_diff(frames[-1], ends[1]) <= 2
    assert mean_diff(frames[0], frames[-1]) > 0
    cleaned = [f.image for f in FrameStream(JourneyPlan(g, prompts=("x",), seeds=(1,), frames=3,
                                                        images=(a, b), strength=0.5))]
    assert len(cleaned) == 3 and cleaned[0].size == (64, 64)
    assert mean_diff(cleaned[0], frames[0]) > 0  # the image-to-image pass changed it
