"""Best-of-N ranked by CLIP: a candidate made to match the prompt ranks first,
and ranking never changes a candidate's pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.assists.local_models import CLIP, find_local, resolve
from artstudio.assists.ranking import ClipScorer, best_k, best_order
from artstudio.engine.errors import UserFacingError


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    from tiny_assists import save_tiny_clip

    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


def _matching_image(scorer: ClipScorer, prompt: str) -> Image.Image:
    """An image built to match `prompt` for this CLIP: pixels climbed along the
    gradient of the image-text similarity, through the processor's own
    normalisation, then rounded to 8 bits like any candidate."""
    import torch

    text = scorer.text_embedding(prompt)
    proc = scorer.processor.image_processor
    mean = torch.tensor(proc.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(proc.image_std).view(1, 3, 1, 1)
    pixels = torch.full((1, 3, 32, 32), 0.5, requires_grad=True)
    optimiser = torch.optim.Adam([pixels], lr=0.05)
    for _ in range(60):
        features = scorer.model.get_image_features(pixel_values=(pixels.clamp(0, 1) - mean) / std)
        features = getattr(features, "pooler_output", features)
        loss = -torch.nn.functional.cosine_similarity(features, text).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    arr = (pixels.detach().clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round()
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def test_the_image_made_to_match_the_prompt_ranks_first_and_pixels_stay(clip_folder):
    scorer = ClipScorer.load(clip_folder)
    rng = np.random.default_rng(3)
    others = [Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
              for _ in range(3)] + [Image.new("RGB", (32, 32), (128, 128, 128))]
    matching = _matching_image(scorer, "a lighthouse at night")
    candidates = [*others[:2], matching, *others[2:]]
    before = [np.asarray(im).copy() for im in candidates]
    scores = scorer.scores(candidates, "a lighthouse at night")
    assert best_order(scores)[0] == 2
    assert scores[2] > max(s for i, s in enumerate(scores) if i != 2) + 5
    assert all(np.array_equal(np.asarray(im), b) for im, b in zip(candidates, before, strict=True))
    assert scorer.scores(candidates, "a lighthouse at night") == scores  # deterministic


def test_best_k_orders_by_score_and_keeps_generation_order_on_ties():
    assert best_order([1.0, 3.0, 3.0, 2.0]) == [1, 2, 3, 0]
    assert best_k([1.0, 3.0, 2.0], 2) == [1, 2]
    with pytest.raises(UserFacingError, match="at least 1"):
        best_k([1.0], 0)


def test_clip_folders_are_found_by_their_config_in_the_models_folder(clip_folder, tmp_path,
                                                                   monkeypatch):
    import shutil

    from artstudio.paths import user_models_dir

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    target = user_models_dir() / "clip"
    target.mkdir(parents=True)
    assert find_local(CLIP) == []
    shutil.copytree(clip_folder, target / "mine")
    assert target / "mine" in find_local(CLIP)
    assert resolve(CLIP, None) in find_local(CLIP)


def test_no_clip_or_the_wrong_kind_of_folder_is_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(UserFacingError, match="No CLIP model was found: put one") as caught:
        resolve(CLIP, None)
    assert "clip" in str(caught.value)
    lm = tmp_path / "lm"
    lm.mkdir()
    (lm / "config.json").write_text('{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}')
    with pytest.raises(UserFacingError, match="is not a CLIP model"):
        resolve(CLIP, lm)
    with pytest.raises(UserFacingError, match="is not a folder"):
        resolve(CLIP, tmp_path / "missing")
