"""Keyframes as the artist types them in the window: seeds separated by
commas or spaces, prompts one per line."""

from __future__ import annotations

import re

from artstudio.diffusion.params import MAX_SEED
from artstudio.engine.errors import UserFacingError


def parse_seeds(text: str) -> tuple[int, ...]:
    """"1, 2 3" -> (1, 2, 3); a word that is not a seed is refused by name."""
    seeds = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        if not word.isdigit() or int(word) > MAX_SEED:
            raise UserFacingError(f"“{word}” is not a seed: give whole numbers from 0 to "
                                  f"{MAX_SEED}, separated by commas.")
        seeds.append(int(word))
    return tuple(seeds)


def parse_prompts(text: str) -> tuple[str, ...]:
    """One prompt per non-empty line."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def keyframes_of_results(results) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """(seeds, prompts) travelling through staged results (objects with
    `seed` and `params`): one prompt when they share it, else one each."""
    chosen = [r for r in results if r.seed is not None]
    seeds = tuple(int(r.seed) for r in chosen)
    prompts = tuple(str(r.params.get("prompt", "")) for r in chosen)
    if len(set(prompts)) <= 1:
        prompts = prompts[:1]
    return seeds, prompts
