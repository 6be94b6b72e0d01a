"""A1111's prompt syntax for the CLIP families: `(word:1.3)`, `(word)`,
`[word]`, `BREAK`, and prompts longer than 77 tokens, turned into the
embeddings the pipeline takes.

The embedding arithmetic is compel's (weights applied per token, long
prompts encoded in 75-token chunks with their own start and end tokens and
joined, as A1111 and ComfyUI do); this module only translates A1111's
syntax into compel's and handles BREAK, which starts a new chunk there.
"""

from __future__ import annotations

import re
from typing import Any

from artstudio.engine.errors import UserFacingError

A1111_PAREN = 1.1  # one pair of () multiplies by 1.1, one pair of [] divides by it
BREAK = re.compile(r"\s*\bBREAK\b\s*")
_ESCAPED = {"\\(": "\x00", "\\)": "\x01", "\\[": "\x02", "\\]": "\x03"}
_WEIGHTED = re.compile(r"\(([^()\[\]]*?):\s*(-?\d+(?:\.\d+)?)\s*\)")
_PLAIN_PAREN = re.compile(r"\(([^()\[\]:]*)\)")
_SQUARE = re.compile(r"\[([^()\[\]]*)\]")
WEIGHTED_FAMILIES = ("sd1", "sd2", "sdxl")


def uses_syntax(prompt: str) -> bool:
    """Whether a prompt needs this module: weights, BREAK, or more words than
    one chunk may hold (the tokenizer decides exactly; this only routes)."""
    return bool(re.search(r"[()\[\]]|\bBREAK\b", prompt)) or len(prompt.split()) > 60


def has_weights(prompt: str) -> bool:
    """Whether a prompt gives a word a weight or uses BREAK (plain brackets
    are ordinary text for the families that read no weights)."""
    return bool(_WEIGHTED.search(prompt) or re.search(r"\bBREAK\b", prompt))


def to_compel(text: str) -> str:
    """One A1111 segment (no BREAK) in compel's syntax: `(a:1.3)` -> `(a)1.3`,
    `(a)` -> `(a)1.1`, `[a]` -> `(a)0.909`; nesting multiplies in both."""
    for raw, mark in _ESCAPED.items():
        text = text.replace(raw, mark)
    previous = None
    while previous != text:  # innermost first, so nested groups multiply
        previous = text
        text = _WEIGHTED.sub(lambda m: f"\x04{m.group(1)}\x05{float(m.group(2)):g}", text)
        text = _PLAIN_PAREN.sub(lambda m: f"\x04{m.group(1)}\x05{A1111_PAREN:g}", text)
        text = _SQUARE.sub(lambda m: f"\x04{m.group(1)}\x05{1 / A1111_PAREN:.4g}", text)
    if any(c in text for c in "()[]"):
        raise UserFacingError("The prompt has a bracket that is not closed: check its ( ) "
                              "and [ ].")
    text = text.replace("\x04", "(").replace("\x05", ")")
    for raw, mark in _ESCAPED.items():  # compel reads the same escapes as literal brackets
        text = text.replace(mark, raw)
    return text


def segments(prompt: str) -> list[str]:
    return [to_compel(part) for part in BREAK.split(prompt)] or [""]


def _compel_for(pipe, family: str):
    from compel.convenience_wrappers import CompelForSD, CompelForSDXL
    from compel.diffusers_textual_inversion_manager import DiffusersTextualInversionManager

    if family == "sdxl":  # compel's manager expands tokens through the first tokenizer only
        return CompelForSDXL(pipe, device=pipe._execution_device)
    # the manager spells a multi-vector embedding's word as its tokens, as the pipeline does
    return CompelForSD(pipe, DiffusersTextualInversionManager(pipe),
                       device=pipe._execution_device)


def too_long(pipe, text: str) -> bool:
    """Whether `text` holds more tokens than the pipeline's encoder reads in
    one pass (77 for CLIP): the pipeline would cut the rest off."""
    tokenizer = getattr(pipe, "tokenizer", None)
    if tokenizer is None or not text:
        return False
    return len(tokenizer(text).input_ids) > tokenizer.model_max_length


def needed(pipe, family: str, prompt: str, negative: str) -> bool:
    """Whether the prompts go through compel: weights, BREAK, or more tokens
    than one pass; plain prompts keep the pipeline's own encoder."""
    if family not in WEIGHTED_FAMILIES:
        return False
    return any(uses_syntax(t) or too_long(pipe, t) for t in (prompt, negative))


def _encode(compel, prompt: str):
    """(embeddings, pooled or None) of one prompt, BREAK segments joined."""
    import torch

    parts = [compel(segment) for segment in segments(prompt)]
    # the first chunk's pooled output, as A1111 does
    return torch.cat([p.embeds for p in parts], dim=1), parts[0].pooled_embeds


def _padded(compel, embeds, length: int):
    """`embeds` lengthened with chunks of the empty prompt, as compel pads."""
    import torch

    if embeds.shape[1] >= length:
        return embeds
    empty = compel("").embeds
    repeats = (length - embeds.shape[1]) // empty.shape[1]
    return torch.cat([embeds, empty.repeat(embeds.shape[0], repeats, 1)], dim=1)


def prompt_overrides(pipe, family: str, prompt: str, negative: str,
                     guided: bool = True) -> dict[str, Any]:
    """The pipeline arguments that replace `prompt` and `negative_prompt`."""
    import torch

    if family not in WEIGHTED_FAMILIES:
        raise UserFacingError("Prompt weights and BREAK work with Stable Diffusion 1.x, 2.x "
                              "and SDXL models; this model reads the prompt as plain text.")
    compel = _compel_for(pipe, family)
    negative_text = negative
    with torch.inference_mode():
        embeds, pooled = _encode(compel, prompt)
        out: dict[str, Any] = {"prompt_embeds": embeds}
        if family == "sdxl":
            out["pooled_prompt_embeds"] = pooled
        if guided:
            negative, negative_pooled = _encode(compel, negative or "")
            if family == "sdxl" and not negative_text and getattr(
                    pipe.config, "force_zeros_for_empty_prompt", False):
                # SDXL's pipeline conditions an empty negative prompt on zeros
                negative, negative_pooled = torch.zeros_like(negative), torch.zeros_like(
                    negative_pooled)
            length = max(embeds.shape[1], negative.shape[1])
            out.update(prompt_embeds=_padded(compel, embeds, length),
                       negative_prompt_embeds=_padded(compel, negative, length))
            if family == "sdxl":
                out["negative_pooled_prompt_embeds"] = negative_pooled
    return out
