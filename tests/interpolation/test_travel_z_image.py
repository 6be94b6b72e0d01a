"""Journeys with Z-Image, whose prompt embeddings are a list of one tensor per
prompt, each as long as its prompt's tokens, and whose image-to-image
pipeline encodes every `image` it is given."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.generate import run as generate
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.cancel import CancelToken
from artstudio.interpolation.journey import JourneyPlan
from artstudio.interpolation.travel import FrameStream


@pytest.fixture(scope="module")
def z_image(tmp_path_factory):
    from tiny_families import save_tiny_z_image

    return save_tiny_z_image(tmp_path_factory.mktemp("tiny-z-image"))["diffusers"]


def settings(model) -> GenerationParams:
    return GenerationParams(model=str(model), steps=2, width=64, height=64, cfg_scale=0.0,
                            preview_every=0)


def pixels(image) -> np.ndarray:
    return np.asarray(image).astype(int)


def test_prompt_travel_between_prompts_of_different_lengths_starts_and_ends_at_generate(z_image):
    g = settings(z_image)
    short, long = "a cat", "a very large striped orange cat asleep on a red velvet sofa"
    frames = list(FrameStream(JourneyPlan(g, prompts=(short, long), seeds=(5, 5), frames=3)))
    assert [f.image.size for f in frames] == [(64, 64)] * 3

    def made(prompt):
        return pixels(generate(replace(g, prompt=prompt, seed=5), lambda *a, **k: None,
                               CancelToken()).images[0])

    first, last = made(short), made(long)
    assert np.abs(first - last).mean() > 1  # the prompts differ, so the check means something
    assert np.abs(pixels(frames[0].image) - first).max() <= 2
    assert np.abs(pixels(frames[-1].image) - last).max() <= 2
    middle = pixels(frames[1].image)
    assert np.abs(middle - first).mean() > 0.5 and np.abs(middle - last).mean() > 0.5


def test_a_morph_with_a_clean_up_pass_runs_through_the_image_to_image_pipeline(z_image):
    rng = np.random.default_rng(1)
    a, b = (Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8)) for _ in range(2))
    g = settings(z_image)
    plain = [f.image for f in FrameStream(JourneyPlan(g, prompts=("x",), seeds=(1,), frames=3,
                                                      images=(a, b)))]
    cleaned = [f.image for f in FrameStream(JourneyPlan(g, prompts=("x",), seeds=(1,), frames=3,
                                                        images=(a, b), strength=0.5))]
    assert [im.size for im in cleaned] == [(64, 64)] * 3
    assert np.abs(pixels(cleaned[1]) - pixels(plain[1])).mean() > 0  # the pass changed it
