"""Prompt expansion: a local language model rewrites a short prompt into a
detailed one, as DALL-E 3's recaptioning taught models to expect. The
artist sees both and picks; the expansion is seeded, and cut to what the
text encoder reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from artstudio.assists.local_models import LANGUAGE_MODEL, resolve
from artstudio.assists.text_models import TextModel
from artstudio.engine.errors import UserFacingError

EXPANSION_TOKENS = 120
CLIP_WORDS = 75  # CLIP's 77 positions less its start and end tokens

INSTRUCTION = (
    "You write descriptions of pictures for an image generator. Rewrite the short idea "
    "below as one detailed description of a single picture: the subject, what it does, "
    "the setting, the light, the colours, the composition and the medium or style. Keep "
    "every element of the idea, add nothing that contradicts it, and write one paragraph "
    "of plain sentences with no list, no title and no commentary.")


def load_expander(path: str | os.PathLike | None = None, device: str = "cpu") -> TextModel:
    return TextModel.load(LANGUAGE_MODEL, "AutoModelForCausalLM", path, device)


def _inputs(lm: TextModel, prompt: str) -> dict:
    tokenizer = lm.processor
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": INSTRUCTION},
                    {"role": "user", "content": prompt}]
        text = tokenizer.apply_chat_template(messages, tokenize=False,
                                             add_generation_prompt=True)
    else:
        text = f"{INSTRUCTION}\n\nIdea: {prompt}\nDescription:"
    return dict(tokenizer(text, return_tensors="pt"))


def clip_token_count(text: str) -> int:
    from transformers import CLIPTokenizer

    from artstudio.diffusion.clip_vocab import find_clip_vocab

    vocab = find_clip_vocab()
    if vocab is None:  # no vocabulary to count with: words are a close lower bound
        return len(text.split())
    tokenizer = CLIPTokenizer.from_pretrained(str(vocab), local_files_only=True)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def cut_to_encoder(text: str, limit: int = CLIP_WORDS) -> tuple[str, str]:
    """`text` cut at a word boundary to fit `limit` CLIP tokens, and a note
    when something was cut."""
    if clip_token_count(text) <= limit:
        return text, ""
    words = text.split()
    low, high = 0, len(words)
    while low < high:  # the most words that fit
        middle = (low + high + 1) // 2
        if clip_token_count(" ".join(words[:middle])) <= limit:
            low = middle
        else:
            high = middle - 1
    return (" ".join(words[:low]),
            f"The expansion was cut to the {limit} tokens the text encoder reads "
            f"({len(words) - low} words dropped).")


def expand(lm: TextModel, prompt: str, seed: int = 0) -> tuple[str, list[str]]:
    """(expanded prompt, notes). The first paragraph of what the model writes."""
    if not prompt.strip():
        raise UserFacingError("Write a short prompt first; Expand rewrites it.")
    written = lm.decode(lm.generate(_inputs(lm, prompt.strip()), seed, EXPANSION_TOKENS))
    paragraph = next((p for p in written.split("\n\n") if p.strip()), "")
    written = " ".join(paragraph.split()).strip('"').strip()
    if not written:
        raise UserFacingError(f"{lm.path.name} gave an empty expansion; the prompt is kept "
                              "as it was.")
    text, note = cut_to_encoder(written)
    return text, [note] if note else []


@dataclass(frozen=True)
class ExpandRequest:
    prompt: str
    seed: int = 0
    lm: str | None = None  # a language model folder; None: the first found
    device: str = "cpu"  # the pool's device: the accelerator stays with generation


@dataclass(frozen=True)
class Expansion:
    original: str
    expanded: str
    notes: tuple[str, ...]
    model: str  # the language model folder's name


@lru_cache(maxsize=1)  # the artist expands again and again while writing a prompt
def cached_expander(folder: str, device: str = "cpu") -> TextModel:
    return load_expander(folder, device)


def expand_job(request: ExpandRequest, progress, cancel) -> Expansion:
    """The engine job behind the panel's Expand: both prompts, for the artist to pick."""
    folder = resolve(LANGUAGE_MODEL, request.lm)
    progress(0, 2, "Loading the language model")
    lm = cached_expander(str(folder), request.device)
    cancel.raise_if_cancelled()
    progress(1, 2, "Expanding the prompt")
    text, notes = expand(lm, request.prompt, request.seed)
    progress(2, 2, "Expanded")
    return Expansion(request.prompt, text, tuple(notes), folder.name)
