"""Which sampler a journey runs with.

Ancestral samplers (Euler a) add fresh noise at every step, drawn from the
seed's generator: two neighbouring frames then get unrelated noise and the
journey flickers. A journey runs with the deterministic counterpart (the same
solver without the added noise), and says so. LCM has none; between its few
steps every frame of a segment gets the noise of the segment's first
keyframe, so keyframes still match `artstudio generate`.
"""

from __future__ import annotations

from artstudio.diffusion import schedulers

DETERMINISTIC = {"euler_a": "euler"}  # a sampler that adds noise -> the one that does not
SHARED_STEP_NOISE = ("lcm",)
DEFAULT_SAMPLER = "euler"


def journey_sampler(name: str) -> tuple[str, str]:
    """(the sampler a journey uses, a note for the artist or "")."""
    spec = schedulers.spec(name)
    if name in DETERMINISTIC:
        other = schedulers.spec(DETERMINISTIC[name])
        return other.name, (
            f"{spec.label} adds fresh noise at every step, which makes a journey flicker; "
            f"its frames use {other.label}, its deterministic counterpart (the keyframes "
            f"match artstudio generate --scheduler {other.name}).")
    if name in SHARED_STEP_NOISE:
        return name, (f"{spec.label} adds noise between steps; every frame between two "
                      "keyframes shares the first one's, so frames change smoothly.")
    return name, ""
