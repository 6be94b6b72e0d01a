"""The controls of a picture in AUTOMATIC1111's `parameters` text, as its
ControlNet extension writes them:

    ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny, Weight: 1,
    Guidance Start: 0, Guidance End: 1"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def a1111_pairs(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    # reference images are ip-adapter units of the same extension, numbered after the controls
    units = [*(meta.get("controls") or ()), *(meta.get("references") or ())]
    for i, control in enumerate(units):
        fields = (("Module", control["module"]), ("Model", control["model"]),
                  ("Weight", f"{control['weight']:g}"),
                  ("Guidance Start", f"{control['guidance_start']:g}"),
                  ("Guidance End", f"{control['guidance_end']:g}"))
        pairs.append((f"ControlNet {i}", ", ".join(f"{k}: {v}" for k, v in fields)))
    return pairs
