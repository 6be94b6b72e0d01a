"""Mixing and batching a pipeline's prompt embeddings, whichever shape the
family gives them: one tensor per output (SD, SDXL, FLUX, SD3), or a list of
one tensor per prompt whose lengths follow the prompt's tokens (Z-Image,
whose encoder keeps only the real tokens)."""

from __future__ import annotations

from typing import Any

from artstudio.interpolation.maths import lerp


def _padded(a, length: int):
    """A [tokens, dim] embedding padded with zero tokens to `length`."""
    import torch

    if a.shape[0] >= length:
        return a
    pad = torch.zeros((length - a.shape[0], *a.shape[1:]), dtype=a.dtype, device=a.device)
    return torch.cat([a, pad])


def _mix_one(a, b, t: float):
    if not isinstance(a, list):
        return lerp(a, b, t)
    if t in (0.0, 1.0):  # a keyframe's own embeddings, so its frame is its generate result
        return [e.clone() for e in (a if t == 0.0 else b)]
    # Two prompts of different token counts meet at the longer one: the shorter
    # gains zero tokens, which its weight fades in and out of the mix.
    mixed = []
    for ea, eb in zip(a, b, strict=True):
        length = max(ea.shape[0], eb.shape[0])
        mixed.append(lerp(_padded(ea, length), _padded(eb, length), t))
    return mixed


def mix(ea: dict[str, Any], eb: dict[str, Any], t: float) -> dict[str, Any]:
    """Every output of two prompts' embeddings mixed at t (0: ea, 1: eb)."""
    return {k: _mix_one(ea[k], eb[k], t) for k in ea}


def stack(embeds: list[dict[str, Any]]) -> dict[str, Any]:
    """Several frames' embeddings as one batch, in the shape the pipeline takes."""
    import torch

    out: dict[str, Any] = {}
    for k, first in embeds[0].items():
        if isinstance(first, list):
            out[k] = [t for e in embeds for t in e[k]]
        else:
            out[k] = torch.cat([e[k] for e in embeds])
    return out


def dtype_of(embeds: dict[str, Any]):
    first = embeds["prompt_embeds"]
    return (first[0] if isinstance(first, list) else first).dtype
