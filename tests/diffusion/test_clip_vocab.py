"""The CLIP vocabulary built from the shipped merges tokenizes like CLIP."""

from __future__ import annotations

from artstudio.diffusion.clip_vocab import bundled_clip_vocab, find_clip_vocab, shipped_bpe


def test_builds_the_49408_token_clip_vocabulary(artstudio_home):
    from transformers import CLIPTokenizer

    assert shipped_bpe().is_file()
    folder = bundled_clip_vocab()
    assert folder == artstudio_home / "data" / "clip-tokenizer"
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    assert len(tokenizer) == 49408
    # The ids CLIP ViT-L/14 gives this sentence (start, a, photo, of, a, cat, end).
    assert tokenizer("a photo of a cat")["input_ids"] == [49406, 320, 1125, 539, 320, 2368,
                                                          49407]


def test_is_the_last_resort_for_single_files(tmp_path, monkeypatch, artstudio_home):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    checkpoint = tmp_path / "model.safetensors"
    assert find_clip_vocab(checkpoint) == artstudio_home / "data" / "clip-tokenizer"


def test_the_tests_tiny_tokenizer_tells_words_apart(tmp_path):
    """Prompts must differ in the tiny models too, or prompt travel and
    weighting tests could not fail."""
    from transformers import CLIPTokenizer

    from artstudio.selftest.random_models import write_tiny_tokenizer

    tok = CLIPTokenizer.from_pretrained(str(write_tiny_tokenizer(tmp_path / "tok")))
    red, dog = tok("a red cat")["input_ids"], tok("the dog")["input_ids"]
    assert red != dog and tok.unk_token_id not in red[1:-1] + dog[1:-1]
