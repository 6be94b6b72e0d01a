"""Regions: a region's prompt changes the picture inside its mask more than
outside; an empty mask is refused; the UNet is left as it was."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.control.regions import RegionSpec
from artstudio.diffusion.generate import run
from artstudio.diffusion.loading import get_model
from artstudio.diffusion.params import GenerationParams, check_params
from artstudio.engine.errors import UserFacingError


def _params(model, **kw) -> GenerationParams:
    base = dict(model=str(model), prompt="a red cat", steps=3, width=64, height=64, seed=11,
                device="cpu", preview_every=0)
    base.update(kw)
    return GenerationParams(**base)


def _left_half(w=64, h=64) -> np.ndarray:
    mask = np.zeros((h, w), np.float32)
    mask[:, : w // 2] = 1.0
    return mask


@pytest.mark.parametrize("kind", ["sd1", "sdxl-base"])
def test_a_region_prompt_changes_its_area_more_than_the_rest(tiny, kind, no_progress, token):
    model = tiny[kind]["diffusers"]
    plain = np.asarray(run(_params(model), no_progress, token).images[0]).astype(int)
    region = RegionSpec(_left_half(), "a grey stone wall, moss, rain")
    result = run(_params(model, regions=(region,)), no_progress, token)
    guided = np.asarray(result.images[0]).astype(int)
    change = np.abs(guided - plain).mean(axis=2)
    inside, outside = change[:, :28].mean(), change[:, 36:].mean()
    # the tiny UNet spreads a change (self-attention, convolutions): 1.17-1.24x over seeds
    assert inside > 1.0 and inside > 1.1 * outside, (inside, outside)
    assert result.infos[0].metadata["regions"] == [
        {"prompt": "a grey stone wall, moss, rain", "area": 0.5}]
    loaded = get_model(model, device="cpu")
    assert not any(type(p).__name__ == "RegionalAttention"
                   for p in loaded.pipe.unet.attn_processors.values())


def test_a_region_mask_of_another_size_is_scaled_with_a_note(tiny, no_progress, token):
    region = RegionSpec(_left_half(32, 16), "a stone wall")
    result = run(_params(tiny["sd1"]["diffusers"], regions=(region,)), no_progress, token)
    assert "Region 0's mask was 32x16; it was scaled to the picture's 64x64." in result.notes


def test_bad_regions_are_refused_with_a_clear_message(tiny, no_progress, token):
    model = tiny["sd1"]["diffusers"]
    with pytest.raises(UserFacingError, match="has an empty mask"):
        run(_params(model, regions=(RegionSpec(np.zeros((64, 64), np.float32), "a wall"),)),
            no_progress, token)
    with pytest.raises(UserFacingError, match="has no prompt"):
        check_params(_params(model, regions=(RegionSpec(_left_half(), "  "),)))
    with pytest.raises(UserFacingError, match="has no mask"):
        check_params(_params(model, regions=(RegionSpec(None, "a wall"),)))
