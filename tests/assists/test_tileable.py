"""Tileable textures: with circular padding the denoiser and the VAE treat
the image as a torus, so no edge is special: shifting the starting noise
shifts the picture, wrapping around, and the seam is one more interior step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artstudio.assists.tileable import circular_padding, tileable_reason


@pytest.fixture(scope="module")
def pipe(tmp_path_factory):
    from tiny_pipelines import build_tiny_pipeline

    from artstudio.selftest.random_models import write_tiny_tokenizer

    pipe = build_tiny_pipeline("sd1", write_tiny_tokenizer(tmp_path_factory.mktemp("tok")))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _image(pipe, latents, tileable: bool) -> np.ndarray:
    kwargs = dict(num_inference_steps=3, width=64, height=64, latents=latents, output_type="np")
    if not tileable:
        return pipe("a tiled floor", **kwargs).images[0]
    with circular_padding(pipe.unet, pipe.vae) as switched:
        assert switched > 10
        return pipe("a tiled floor", **kwargs).images[0]


def test_a_tileable_image_wraps_around_without_a_seam(pipe):
    latents = torch.randn(1, 4, 32, 32, generator=torch.Generator().manual_seed(1))
    shift = (6, 10)  # latent pixels; the tiny VAE scales by 2
    for tileable, wraps in ((True, True), (False, False)):
        a = _image(pipe, latents, tileable)
        b = _image(pipe, torch.roll(latents, shift, (2, 3)), tileable)
        moved = np.roll(a, (12, 20), (0, 1))
        difference = np.abs(moved - b).max() * 255
        assert (difference < 1) == wraps, (tileable, difference)
        if wraps:
            # a's right-to-left seam sits at column 20 of the shifted picture, where it
            # is an ordinary step between neighbouring columns, as is the top-bottom one
            seam = np.abs(a[:, 0] - a[:, -1])
            inside = np.abs(b[:, 20] - b[:, 19])
            assert np.abs(np.roll(seam, 12, 0) - inside).max() < 1 / 255
            seam_tb = np.abs(a[0] - a[-1])
            assert np.abs(np.roll(seam_tb, 20, 0) - np.abs(b[12] - b[11])).max() < 1 / 255


def test_padding_is_restored_after_the_tileable_run(pipe):
    with circular_padding(pipe.unet, pipe.vae):
        pass
    modes = {m.padding_mode for m in pipe.unet.modules() if isinstance(m, torch.nn.Conv2d)}
    assert modes == {"zeros"}


def test_transformer_models_say_why_they_cannot_tile(pipe):
    assert tileable_reason(pipe) is None
    assert "transformer" in tileable_reason(object(), denoiser="transformer")
