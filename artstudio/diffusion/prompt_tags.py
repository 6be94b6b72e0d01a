"""The prompt text as the Generate panel's LoRA list edits it: A1111's
`<lora:name:weight>` tags read, set, re-weighted and removed, and trigger
words inserted, leaving the rest of the artist's text as typed."""

from __future__ import annotations

import re

from artstudio.diffusion.loras import LORA_TAG as _TAG


def tags(prompt: str) -> dict[str, float]:
    """{name: weight} of the prompt's tags in order; a later tag of a name
    wins, a tag whose weight is not a number is skipped (generating says why)."""
    found: dict[str, float] = {}
    for match in _TAG.finditer(prompt):
        try:
            found[match.group(1).strip()] = float((match.group(2) or "1").strip())
        except ValueError:
            continue
    return found


def _tag_of(name: str) -> re.Pattern:
    return re.compile(r"<lora:" + re.escape(name) + r"(?::[^>]*)?>", re.IGNORECASE)


def with_tag(prompt: str, name: str, weight: float) -> str:
    """`prompt` with the LoRA `name` at `weight`: its tag changed where it is,
    or added at the end."""
    tag = f"<lora:{name}:{round(weight, 2):g}>"
    pattern = _tag_of(name)
    if pattern.search(prompt):
        first = [True]

        def replace(_match: re.Match) -> str:
            keep, first[0] = first[0], False
            return tag if keep else ""

        return pattern.sub(replace, prompt)
    return f"{prompt.rstrip()} {tag}".strip()


def without_tag(prompt: str, name: str) -> str:
    text = _tag_of(name).sub("", prompt)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def with_word(prompt: str, word: str) -> str:
    """`prompt` with a trigger word: added after the text, before the LoRA
    tags at its end; unchanged when the word is there already."""
    if re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", _TAG.sub("", prompt),
                 re.IGNORECASE):
        return prompt
    tail = re.search(r"(\s*<lora:[^>]*>)+\s*$", prompt, re.IGNORECASE)
    text, end = (prompt[:tail.start()], prompt[tail.start():]) if tail else (prompt, "")
    text = text.rstrip().rstrip(",")
    return (f"{text}, {word}" if text else word) + end
