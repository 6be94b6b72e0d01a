"""Describe (image to prompt) and Expand (prompt expansion) through the same
code paths real models take, with tiny random models: seeded, deterministic,
and clear about empty or over-long results."""

from __future__ import annotations

import pytest
from PIL import Image

from artstudio.assists import describe, expand
from artstudio.engine.errors import UserFacingError


@pytest.fixture(scope="module")
def captioner(tmp_path_factory):
    from tiny_assists import save_tiny_captioner

    return describe.load_captioner(save_tiny_captioner(tmp_path_factory.mktemp("cap") / "blip"))


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    from tiny_assists import save_tiny_lm

    return expand.load_expander(save_tiny_lm(tmp_path_factory.mktemp("lm") / "gpt2"))


def test_a_caption_is_the_same_for_the_same_seed(captioner):
    from tiny_assists import WORDS

    image = Image.new("RGB", (48, 40), (200, 30, 20))
    seeds = range(6)
    captions = [describe.describe(captioner, image, seed) for seed in seeds]
    assert captions == [describe.describe(captioner, image, seed) for seed in seeds]
    assert len(set(captions)) > 1  # another seed, another wording
    assert all(set(c.replace(",", " , ").replace(".", " . ").split()) <= set(WORDS)
               for c in captions)


def test_tags_drop_articles_and_split_phrases():
    assert describe.as_tags("a woman with red hair in the rain") == "woman, red hair, rain"
    assert describe.as_tags("A cat on a house, a cat") == "cat, house"


def test_an_expansion_is_seeded_and_fits_the_text_encoder(lm):
    results = [expand.expand(lm, "a red fox", seed) for seed in (1, 1, 2)]
    assert results[0] == results[1] and results[0][0] != results[2][0]
    for text, _notes in results:
        assert text and expand.clip_token_count(text) <= expand.CLIP_WORDS


def test_an_over_long_expansion_is_cut_with_a_note():
    long = " ".join(["lighthouse"] * 120)
    text, note = expand.cut_to_encoder(long)
    assert expand.clip_token_count(text) <= expand.CLIP_WORDS < expand.clip_token_count(long)
    assert "cut to the 75 tokens" in note and text == " ".join(text.split())
    assert expand.cut_to_encoder("a fox") == ("a fox", "")


def test_empty_results_keep_the_prompt_with_a_message(lm, monkeypatch):
    monkeypatch.setattr(type(lm), "generate", lambda self, inputs, seed, n: [])
    with pytest.raises(UserFacingError, match="empty expansion; the prompt is kept"):
        expand.expand(lm, "a red fox")
    with pytest.raises(UserFacingError, match="Write a short prompt first"):
        expand.expand(lm, "  ")


def test_an_lm_folder_is_not_a_captioner(tmp_path):
    from tiny_assists import save_tiny_lm

    folder = save_tiny_lm(tmp_path / "gpt2")
    with pytest.raises(UserFacingError, match="is not an image-captioning model"):
        describe.load_captioner(folder)
