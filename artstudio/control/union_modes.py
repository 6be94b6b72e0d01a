"""Which control type a union ControlNet is told for each control kind: one
file reads several kinds and is given the kind's number (diffusers'
`control_mode`).

The numbers are the ones the publishers trained with: xinsir's
controlnet-union-sdxl-1.0 (and its promax, which adds tile and repaint) and
InstantX's / Shakker-Labs' FLUX.1 union ControlNets. A union FLUX ControlNet
without a mode embedding (Shakker-Labs' Union Pro 2.0) reads every kind alone.
"""

from __future__ import annotations

from artstudio.control.kinds import kind
from artstudio.engine.errors import UserFacingError

# xinsir: 0 openpose, 1 depth, 2 hed/pidi/scribble/ted, 3 canny/lineart/mlsd,
# 4 normal, 5 segment; promax: 6 tile, 7 repaint
SDXL_UNION = {"pose": 0, "depth": 1, "softedge": 2, "scribble": 2, "canny": 3, "lineart": 3,
              "normal": 4, "seg": 5, "tile": 6}
# InstantX / Shakker-Labs: 0 canny, 1 tile, 2 depth, 3 blur, 4 pose, 5 gray, 6 low quality
FLUX_UNION = {"canny": 0, "lineart": 0, "tile": 1, "depth": 2, "pose": 4, "brightness": 5}


def control_mode(kind_name: str, architecture: str, types: int | None, net_name: str
                 ) -> int | None:
    """The control type number for `kind_name` in a union ControlNet of
    `architecture` ("union-sdxl" or "flux") that knows `types` of them (None:
    a FLUX ControlNet without modes). A clear message for a kind it cannot read."""
    if types is None:
        return None
    table = SDXL_UNION if architecture == "union-sdxl" else FLUX_UNION
    mode = table.get(kind_name)
    if mode is None or mode >= types:
        readable = sorted(k for k, m in table.items() if m < types)
        raise UserFacingError(
            f"The union ControlNet {net_name} cannot read {kind(kind_name).label.lower()} "
            f"controls; it reads {', '.join(readable)}.")
    return mode
