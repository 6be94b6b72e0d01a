"""A layer's guide: what it tells a generation besides being paint.

A guide is a plain JSON value kept on the layer (like `generation`) and
saved in the .ora; the control package turns it into the request's
ControlSpec / RegionSpec / ReferenceSpec (`control/from_document.py`).

- control:   {"role": "control", "kind": "canny", "strength": 1.0,
              "start": 0.0, "end": 1.0, "preprocess": true,
              "preprocessor": ""}  ("" the kind's own; "softedge_hed" a network)
- region:    {"role": "region", "prompt": "a red cat"}
- reference: {"role": "reference", "weight": 1.0}

The kind is only checked to be a name here: the document knows no control
kinds, so a file from a newer version with a kind we lack still opens, and
generating names the layer and the kind it does not know.
"""

from __future__ import annotations

import math
from typing import Any

CONTROL, REGION, REFERENCE = "control", "region", "reference"
ROLES = (CONTROL, REGION, REFERENCE)
MAX_WEIGHT = 2.0  # the control package's MAX_STRENGTH: A1111's slider ends there

_DEFAULTS: dict[str, dict[str, Any]] = {
    CONTROL: {"kind": "scribble", "strength": 1.0, "start": 0.0, "end": 1.0,
              "preprocess": True, "preprocessor": ""},
    REGION: {"prompt": ""},
    REFERENCE: {"weight": 1.0},
}


class GuideError(ValueError):
    """A guide value that cannot be used; the message says what is wrong."""


def new_guide(role: str, **settings: Any) -> dict[str, Any]:
    """A checked guide of `role` with its defaults, changed by `settings`."""
    if role not in ROLES:
        raise GuideError(f"unknown guide role {role!r}; the roles are {', '.join(ROLES)}")
    return checked_guide({"role": role, **_DEFAULTS[role], **settings})


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GuideError(f"the {what} must be a number, not {value!r}")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise GuideError(f"the {what} must be between {low:g} and {high:g}, not {value!r}")
    return number


def checked_guide(value: Any) -> dict[str, Any] | None:
    """`value` as a complete guide (defaults filled in), None for no guide;
    GuideError says what is wrong with anything else. Keys it does not know
    are kept, so a newer version's settings survive a save."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise GuideError(f"a guide is a JSON object, not {type(value).__name__}")
    role = value.get("role")
    if role not in ROLES:
        raise GuideError(f"unknown guide role {role!r}; the roles are {', '.join(ROLES)}")
    guide = {"role": role, **_DEFAULTS[role], **value}
    if role == CONTROL:
        if not isinstance(guide["kind"], str) or not guide["kind"].strip():
            raise GuideError(f"a control layer's kind must be a name, not {guide['kind']!r}")
        guide["strength"] = _number(guide["strength"], "strength", 0.0, MAX_WEIGHT)
        guide["start"] = _number(guide["start"], "start", 0.0, 1.0)
        guide["end"] = _number(guide["end"], "end", 0.0, 1.0)
        if guide["start"] >= guide["end"]:
            raise GuideError(f"the steps it guides must start before they end "
                             f"(not {guide['start']:g}..{guide['end']:g})")
        if not isinstance(guide["preprocess"], bool):
            raise GuideError(f"preprocess must be true or false, not {guide['preprocess']!r}")
        if not isinstance(guide["preprocessor"], str):
            raise GuideError(f"a preprocessor is a name, not {guide['preprocessor']!r}")
    elif role == REGION:
        if not isinstance(guide["prompt"], str):
            raise GuideError(f"a region's prompt must be text, not {guide['prompt']!r}")
    else:
        guide["weight"] = _number(guide["weight"], "weight", 0.0, MAX_WEIGHT)
    return guide


def describe(guide: dict[str, Any] | None) -> str:
    """A short tag for the layer list: "control: canny", "region: a red cat"."""
    if guide is None:
        return ""
    if guide["role"] == CONTROL:
        return f"control: {guide['kind']}"
    if guide["role"] == REGION:
        prompt = guide["prompt"].strip()
        return f"region: {prompt[:24]}" if prompt else "region (no prompt)"
    return f"reference ×{guide['weight']:g}"
