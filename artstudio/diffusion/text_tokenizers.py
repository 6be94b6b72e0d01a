"""T5's and Qwen's tokenizers, built offline from the vocabularies we ship.

FLUX.1 and SD3 read prompts with T5-XXL's SentencePiece vocabulary (32,100
tokens); Z-Image and FLUX.2 Klein with Qwen3's byte-level BPE (151,643 tokens
and the chat tokens after them). Neither comes inside an all-in-one file or a
ComfyUI text-encoder file, and the hub cannot be reached, so both ship in
artstudio/data/text_tokenizers (sources and licences in its README) and are
written out once as the folders transformers reads. A folder the artist has
(beside the model, in the Hugging Face cache) is still preferred.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path
from typing import Any

from artstudio import paths
from artstudio.diffusion.clip_vocab import byte_symbols
from artstudio.resources import data_folder

log = logging.getLogger(__name__)

T5_JSON = "t5_tokenizer.json.gz"
QWEN_MERGES = "qwen2_merges.txt.gz"
# Qwen's special tokens, in id order from 151643, as its tokenizer numbers them.
QWEN_SPECIAL = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
    "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
    "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>",
    "</think>")
# Our own template, giving the text Qwen3's does for what the pipelines send (one
# user message, a generation prompt; Klein turns thinking off, Z-Image leaves it on).
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "<think>\n\n</think>\n\n{% endif %}{% endif %}")


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / name)
    return folder


def _shipped(name: str) -> str:
    return gzip.decompress((data_folder("text_tokenizers") / name).read_bytes()).decode("utf-8")


def _built(name: str, files) -> Path | None:
    """The folder in the data folder, written on first use; None when the
    shipped file is missing or the data folder is not writable."""
    folder = paths.data_dir() / name
    if (folder / "tokenizer_config.json").is_file():
        return folder
    try:
        return _write(folder, files())
    except (OSError, KeyError):
        return None


def t5_folder() -> Path | None:
    return _built("t5-tokenizer", lambda: {
        "tokenizer.json": _shipped(T5_JSON),
        "tokenizer_config.json": json.dumps({
            "tokenizer_class": "T5Tokenizer", "eos_token": "</s>", "pad_token": "<pad>",
            "unk_token": "<unk>", "extra_ids": 100, "model_max_length": 512}),
    })


def _qwen_files() -> dict[str, str]:
    lines = _shipped(QWEN_MERGES).split("\n")
    merges = [m for m in lines if m and not m.startswith("#version")]  # "# #" is a merge
    tokens = byte_symbols() + ["".join(m.split(" ")) for m in merges]
    first = len(tokens)
    added = {str(first + i): {"content": t, "lstrip": False, "rstrip": False,
                              "normalized": False, "single_word": False,
                              "special": t.startswith("<|")}
             for i, t in enumerate(QWEN_SPECIAL)}
    return {
        "vocab.json": json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False),
        "merges.txt": "#version: 0.2\n" + "\n".join(merges) + "\n",
        "tokenizer_config.json": json.dumps({
            "tokenizer_class": "Qwen2Tokenizer", "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>", "unk_token": None, "bos_token": None,
            "errors": "replace", "model_max_length": 131072, "split_special_tokens": False,
            "added_tokens_decoder": added, "chat_template": QWEN_CHAT_TEMPLATE}),
    }


def qwen_folder() -> Path | None:
    return _built("qwen-tokenizer", _qwen_files)


def _fitting(tokenizer, encoder_config: Path | None):
    """The tokenizer, or None when its ids would not fit the text encoder's
    embedding (a file that is not the published encoder: its tokenizer must
    come with it)."""
    config = encoder_config / "config.json" if encoder_config is not None else None
    if config is None or not config.is_file():
        return tokenizer
    rows = json.loads(config.read_text(encoding="utf-8")).get("vocab_size")
    if rows is not None and len(tokenizer) > rows:
        log.warning("the shipped %s vocabulary (%d tokens) does not fit %s (%d)",
                    type(tokenizer).__name__, len(tokenizer), encoder_config, rows)
        return None
    return tokenizer


def load_t5(settings: dict[str, Any] | None = None, encoder_config: Path | None = None):
    """T5-XXL's tokenizer from the shipped vocabulary; `settings` (a config
    folder's tokenizer_config.json) may set its length. None without it, or
    when it does not fit the encoder configured in `encoder_config`."""
    from transformers import T5TokenizerFast

    folder = t5_folder()
    if folder is None:
        return None
    length = (settings or {}).get("model_max_length", 512)
    return _fitting(T5TokenizerFast.from_pretrained(str(folder), local_files_only=True,
                                                    model_max_length=length), encoder_config)


def load_qwen(encoder_config: Path | None = None):
    """Qwen3's tokenizer (Z-Image, FLUX.2 Klein) from the shipped merges; None
    without them, or when it does not fit the encoder in `encoder_config`."""
    from transformers import AutoTokenizer

    folder = qwen_folder()
    if folder is None:
        return None
    return _fitting(AutoTokenizer.from_pretrained(str(folder), local_files_only=True),
                    encoder_config)


def has_vocabulary(folder: Path) -> bool:
    return (folder / "tokenizer.json").is_file() or (folder / "spiece.model").is_file() or (
        (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file())


def load_for_config(config_dir: Path, subfolder: str, checkpoint: Path | None):
    """The tokenizer a config folder's `subfolder` describes when it holds only
    its settings: CLIP's, T5's or Qwen's built from what we ship; None for a
    folder with its own vocabulary (the pipeline loads that) or another class."""
    own = config_dir / subfolder
    settings_file = own / "tokenizer_config.json"
    if has_vocabulary(own) or not settings_file.is_file():
        return None
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    kind = settings.get("tokenizer_class", "")
    encoder = config_dir / subfolder.replace("tokenizer", "text_encoder")
    if kind.startswith("CLIP"):
        from artstudio.diffusion.clip_vocab import load_tokenizer

        return load_tokenizer(config_dir, subfolder, checkpoint)
    if kind.startswith("T5"):
        return load_t5(settings, encoder)
    if kind.startswith("Qwen2"):
        return load_qwen(encoder)
    return None
