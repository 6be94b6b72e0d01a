"""Seed travel with FLUX.1: packed noise and its prompt outputs
(prompt_embeds, pooled_prompt_embeds) go through the same journey code."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from artstudio.diffusion.generate import run as generate
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import CancelToken
from artstudio.interpolation.journey import JourneyPlan
from artstudio.interpolation.travel import FrameStream


def test_a_flux_seed_journey_starts_and_ends_where_generate_does(tiny_flux):
    g = GenerationParams(model=str(tiny_flux["flux-dev"]["diffusers"]), prompt="a red cat",
                         steps=2, width=64, height=48, cfg_scale=3.5, scheduler="flow_euler",
                         preview_every=0)
    frames = list(FrameStream(JourneyPlan(g, prompts=("a red cat",), seeds=(3, 9), frames=3)))
    assert [f.image.size for f in frames] == [(64, 48)] * 3

    def made(seed):
        image = generate(replace(g, seed=seed), lambda *a, **k: None, CancelToken()).images[0]
        return np.asarray(image).astype(int)

    first, last = made(3), made(9)
    assert np.abs(first - last).mean() > 5  # the keyframes differ: the check means something
    assert np.abs(np.asarray(frames[0].image).astype(int) - first).max() <= 2
    assert np.abs(np.asarray(frames[-1].image).astype(int) - last).max() <= 2
    middle = np.asarray(frames[1].image).astype(int)
    assert np.abs(middle - first).mean() > 1 and np.abs(middle - last).mean() > 1
