"""What the assists add to an image's metadata: in our JSON under the keys
below, and in AUTOMATIC1111's `parameters` text under the names A1111 and
image browsers show ("Tiling" is A1111's own)."""

from __future__ import annotations

from typing import Any

A1111_NAMES = {
    "tileable": "Tiling",
    "original_prompt": "Original prompt",
    "clip_score": "CLIP score",
    "rank": "CLIP rank",
    "clip_model": "CLIP model",
}


def assist_metadata(params) -> dict[str, Any]:
    """The metadata a generation request's assists add."""
    meta: dict[str, Any] = {}
    if getattr(params, "tileable", False):
        meta["tileable"] = True
    original = getattr(params, "original_prompt", "")
    if original and original != params.prompt:
        meta["original_prompt"] = original
    return meta


def a1111_pairs(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """("Key", "value") pairs for the assists' entries of `meta`."""
    pairs = []
    for key, name in A1111_NAMES.items():
        value = meta.get(key)
        if value is None or value == "":
            continue
        if key == "rank" and isinstance(value, (list, tuple)):
            value = f"{value[0]} of {value[1]}"
        pairs.append((name, "True" if value is True else str(value)))
    return pairs
