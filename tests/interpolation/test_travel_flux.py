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


def test_a_picture_encoded_for_a_morph_decodes_as_the_vae_alone_gives_it(tiny_flux):
    """FLUX's VAE shifts its latents as well as scaling them: a morph's end
    frame is the picture's own VAE round trip, with no shift left over."""
    import torch

    from artstudio.diffusion.loading import get_model
    from artstudio.diffusion.sampling import decode_latents
    from artstudio.interpolation.morph import encode_picture

    model = get_model(str(tiny_flux["flux-dev"]["diffusers"]))
    vae = model.pipe.vae
    assert vae.config.shift_factor  # the tiny VAE shifts, so the check means something
    picture = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    ours = decode_latents(model, encode_picture(model, picture))[0].astype(int)
    x = torch.from_numpy(picture.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    with torch.inference_mode():
        raw = vae.decode(vae.encode(x.to(vae.dtype)).latent_dist.mode()).sample
    raw = np.rint(((raw[0].float() / 2 + 0.5).clamp(0, 1)).permute(1, 2, 0).numpy() * 255)
    assert np.abs(ours - raw.astype(int)).max() <= 1
