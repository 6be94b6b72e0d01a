"""Tileable generation through the real loading and generation code: the
picture's left and right edges (and top and bottom) continue each other.

A random tiny VAE paints pixel noise, where no seam can be told from any
other step between columns; these tests give its decoder box-filter
kernels (random signs), so pictures are smooth and a seam shows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams
from artstudio.engine.errors import UserFacingError


def _smooth_decoder(vae) -> None:
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for conv in vae.decoder.modules():
            if isinstance(conv, torch.nn.Conv2d):
                out, inp, kh, kw = conv.weight.shape
                signs = torch.randint(0, 2, (out, inp, 1, 1), generator=generator) * 2.0 - 1
                conv.weight.copy_(signs * 2 / (inp * kh * kw) * torch.ones(1, 1, kh, kw))
                conv.bias.zero_()


@pytest.fixture(scope="module")
def smooth_models(tmp_path_factory):
    from tiny_pipelines import build_tiny_pipeline

    from artstudio.selftest.random_models import write_tiny_tokenizer

    root = tmp_path_factory.mktemp("smooth")
    tokenizer = write_tiny_tokenizer(root / "tokenizer")
    made = {}
    for kind in ("sd1", "sd1-inpaint"):
        pipe = build_tiny_pipeline(kind, tokenizer)
        _smooth_decoder(pipe.vae)
        pipe.save_pretrained(str(root / kind), safe_serialization=True)
        made[kind] = str(root / kind)
    return made


def _params(model: str, **kw) -> GenerationParams:
    base = dict(model=model, prompt="a tiled floor", steps=4, width=64, height=64, seed=1,
                device="cpu")
    return GenerationParams(**{**base, **kw})


def _pixels(p: GenerationParams, no_progress, token) -> np.ndarray:
    return np.asarray(run(p, no_progress, token).images[0]).astype(float)


def seams(a: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per direction: (the wrap-around seam's mean difference, the largest
    mean difference between neighbouring columns or rows inside)."""
    columns = np.abs(np.diff(a, axis=1)).mean(axis=(0, 2))
    rows = np.abs(np.diff(a, axis=0)).mean(axis=(1, 2))
    return {"left-right": (np.abs(a[:, 0] - a[:, -1]).mean(), columns.max()),
            "top-bottom": (np.abs(a[0] - a[-1]).mean(), rows.max())}


def _assert_seams(a: np.ndarray, tileable: bool) -> None:
    for direction, (seam, inside) in seams(a).items():
        assert (seam <= inside) == tileable, (direction, seam, inside)


def _noise(seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB")


# With wrap-around padding the seam is one more step between neighbours, as
# likely as any other to be the largest; these fixed seeds are not among the
# 1 in 32 where it is.
CASES = {
    "txt2img": ("sd1", {}),
    "img2img": ("sd1", {"init_image": _noise(), "strength": 0.5}),
    "inpaint": ("sd1-inpaint", {"init_image": _noise(), "mask_blur": 0,
                                "mask": np.ones((64, 64), np.float32)}),
}


@pytest.mark.parametrize("mode", list(CASES))
def test_a_tileable_picture_has_no_seam_and_an_ordinary_one_has(smooth_models, no_progress,
                                                                 token, mode):
    kind, inputs = CASES[mode]
    p = _params(smooth_models[kind], **inputs)
    assert p.mode == mode
    _assert_seams(_pixels(dataclasses.replace(p, tileable=True), no_progress, token), True)
    _assert_seams(_pixels(p, no_progress, token), False)  # so the check above can fail


def test_a_later_ordinary_run_is_as_before(smooth_models, no_progress, token):
    p = _params(smooth_models["sd1"], seed=5)
    before = _pixels(p, no_progress, token)
    tiled = _pixels(dataclasses.replace(p, tileable=True), no_progress, token)
    after = _pixels(p, no_progress, token)
    assert np.array_equal(before, after)
    assert not np.array_equal(before, tiled)


def test_the_metadata_says_tiling(smooth_models, no_progress, token):
    from artstudio.diffusion.metadata import a1111_text

    info = run(_params(smooth_models["sd1"], tileable=True), no_progress, token).infos[0]
    assert info.metadata["tileable"] is True
    assert "Tiling: True" in a1111_text(info.metadata)


def test_a_transformer_family_is_refused_with_the_reason(tmp_path, no_progress, token):
    from tiny_pipelines import save_tiny_flux

    flux = save_tiny_flux(tmp_path, ("flux-schnell",))["flux-schnell"]["diffusers"]
    p = _params(str(flux), steps=1, tileable=True)
    with pytest.raises(UserFacingError, match="UNet model"):
        run(p, no_progress, token)
