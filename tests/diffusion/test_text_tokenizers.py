"""The T5 and Qwen tokenizers built from the vocabularies Artstudio ships give
the token ids the published tokenizers give, so FLUX, SD3, Z-Image and Klein
files load offline with nothing beside them."""

from __future__ import annotations

import pytest

from artstudio.diffusion import text_tokenizers
from artstudio.resources import data_folder

CONFIGS = data_folder("diffusion_configs")


def test_t5_gives_the_published_ids():
    tok = text_tokenizers.load_t5()
    assert len(tok) == 32100  # 32,000 pieces and 100 sentinel tokens
    # google/t5-v1_1-xxl: "Hello world" -> 8774 296 </s>
    assert tok("Hello world").input_ids == [8774, 296, 1]
    assert tok.pad_token_id == 0 and tok.model_max_length == 512
    assert tok.convert_tokens_to_ids("<extra_id_0>") == 32099


def test_qwen_gives_the_published_ids_and_chat_text():
    tok = text_tokenizers.load_qwen()
    assert tok("Hello world").input_ids == [9707, 1879]  # Qwen2/Qwen3's own ids
    assert tok.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>",
                                      "</think>"]) == [151643, 151644, 151645, 151668]
    messages = [{"role": "user", "content": "a cat"}]
    thinking = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                       enable_thinking=True)  # as Z-Image asks
    plain = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                    enable_thinking=False)  # as FLUX.2 Klein asks
    assert thinking == "<|im_start|>user\na cat<|im_end|>\n<|im_start|>assistant\n"
    assert plain == thinking + "<think>\n\n</think>\n\n"
    assert tok(thinking).input_ids[:3] == [151644, 872, 198]  # <|im_start|> user \n


def test_the_folders_are_written_once_into_the_data_folder():
    from artstudio import paths

    first = text_tokenizers.t5_folder()
    assert first == paths.data_dir() / "t5-tokenizer"
    stamp = (first / "tokenizer.json").stat().st_mtime_ns
    assert text_tokenizers.t5_folder() == first
    assert (first / "tokenizer.json").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("variant, subfolder, kind", [
    ("flux-dev", "tokenizer_2", "T5Tokenizer"),
    ("sd35-large", "tokenizer_3", "T5Tokenizer"),
    ("z-image-turbo", "tokenizer", "Qwen2Tokenizer"),
    ("flux-dev", "tokenizer", "CLIPTokenizer"),
])
def test_a_shipped_config_folder_gets_its_tokenizer(variant, subfolder, kind, tmp_path):
    tok = text_tokenizers.load_for_config(CONFIGS / variant, subfolder, tmp_path / "x.safetensors")
    assert kind in type(tok).__name__
    assert len(tok("a lighthouse at dusk").input_ids) > 3


def test_a_folder_with_its_own_vocabulary_is_left_to_the_pipeline(tmp_path):
    folder = text_tokenizers.t5_folder()
    assert text_tokenizers.load_for_config(folder.parent, folder.name, None) is None


def test_flux_finds_t5_without_a_folder_beside_the_file(tmp_path):
    from artstudio.diffusion.families.flux import load_t5_tokenizer

    tok = load_t5_tokenizer(CONFIGS / "flux-dev", tmp_path / "flux1-dev.safetensors")
    assert tok("Hello world").input_ids == [8774, 296, 1]


def test_a_shipped_vocabulary_larger_than_the_encoder_is_not_used(tmp_path):
    """An encoder that is not the published one (64 rows) would index past its
    embedding: its own tokenizer must come with it."""
    import json

    (tmp_path / "text_encoder_2").mkdir()
    (tmp_path / "text_encoder_2" / "config.json").write_text(json.dumps({"vocab_size": 64}))
    assert text_tokenizers.load_t5(encoder_config=tmp_path / "text_encoder_2") is None
    assert text_tokenizers.load_qwen(tmp_path / "text_encoder_2") is None
    assert text_tokenizers.load_t5(encoder_config=CONFIGS / "flux-dev" / "text_encoder_2")
