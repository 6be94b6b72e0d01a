"""A1111's prompt syntax: weights change the conditioning (and weight 1 does
not), long prompts are read to the end, BREAK starts a new chunk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artstudio.diffusion import prompt_weighting as pw
from artstudio.diffusion.loading import load_model
from artstudio.engine.errors import UserFacingError


@pytest.mark.parametrize("a1111,compel", [
    ("a (red:1.3) fox", "a (red)1.3 fox"),
    ("a (red) fox", "a (red)1.1 fox"),
    ("a [red] fox", "a (red)0.9091 fox"),
    ("((red))", "((red)1.1)1.1"),
    ("(a [red] fox:1.2)", "(a (red)0.9091 fox)1.2"),
    (r"a \(red\) fox", r"a \(red\) fox"),
])
def test_a1111_syntax_is_translated(a1111, compel):
    assert pw.to_compel(a1111) == compel


def test_unclosed_brackets_are_said_plainly():
    with pytest.raises(UserFacingError, match="not closed"):
        pw.to_compel("a (red fox")


@pytest.fixture(scope="module", params=["sd1", "sdxl-base"])
def model(request, tiny):
    return load_model(tiny[request.param]["diffusers"], device="cpu")


def _embeds(model, prompt):
    family = model.family
    return pw.prompt_overrides(model.pipe, family, prompt, "", guided=True)["prompt_embeds"]


def test_weights_change_the_conditioning_and_weight_one_does_not(model):
    plain = _embeds(model, "a red cat")
    assert torch.allclose(_embeds(model, "a (red:1.0) cat"), plain, atol=1e-5)
    assert (_embeds(model, "a (red:1.5) cat") - plain).abs().max() > 1e-3
    assert (_embeds(model, "a [red] cat") - plain).abs().max() > 1e-3


def test_a_long_prompt_is_read_to_its_end(model):
    head = " ".join(["red cat"] * 50)  # 100 words: past one 75-token chunk
    a, b = _embeds(model, head + " the dog"), _embeds(model, head + " the cat")
    assert a.shape[1] > 77 and a.shape == b.shape
    assert (a - b).abs().max() > 1e-3  # the tail is in the conditioning


def test_break_starts_a_new_chunk(model):
    joined = _embeds(model, "a red cat BREAK the dog")
    assert joined.shape[1] == 2 * 77
    assert torch.allclose(joined[:, :77], _embeds(model, "a red cat"), atol=1e-5)


def test_a_weighted_prompt_generates_and_differs(model):
    pipe = model.pipe
    shape = (1, 4, 32, 32)

    def image(prompt):
        latents = torch.randn(shape, generator=torch.Generator().manual_seed(3))
        overrides = pw.prompt_overrides(pipe, model.family, prompt, "", guided=True)
        return pipe(num_inference_steps=2, width=64, height=64, latents=latents,
                    output_type="np", **overrides).images[0] * 255

    assert np.abs(image("a (red:1.8) cat") - image("a red cat")).max() > 1


def test_other_families_are_told_plainly():
    with pytest.raises(UserFacingError, match="plain text"):
        pw.prompt_overrides(object(), "flux", "a (red:1.2) fox", "")
