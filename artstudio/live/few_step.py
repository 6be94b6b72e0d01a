"""How a model runs live: few-step models keep their own defaults, an
ordinary one is asked for fewer steps than usual, and the artist is told.

Distilled models are known by their family's variant (FLUX.1 schnell, SD3.5
large turbo, Z-Image Turbo, FLUX.2 Klein: the registry's per-variant steps),
by an LCM scheduler in their config, or by the names their makers give
them (LCM, Turbo, Lightning, Hyper); "4step" style counts in the name win.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from artstudio.diffusion import families

# A variant whose own defaults are this few steps is a distilled one.
FEW_STEPS = 10
ORDINARY_STEPS = 8
ORDINARY_STRENGTH = 0.6


@dataclass(frozen=True)
class LiveSettings:
    """What live runs override in the Generate panel's settings (None: the panel's)."""

    steps: int
    cfg_scale: float | None = None
    scheduler: str | None = None
    strength: float | None = None
    note: str = ""  # for the artist: why live runs the model as it does
    few_step: bool = True


# (name pattern, label, steps, CFG, sampler): the makers' recommended settings.
_NAMED = (
    (r"lcm", "LCM", 4, 1.5, "lcm"),
    (r"lightning", "Lightning", 4, 0.0, "euler"),
    (r"hyper", "Hyper-SD", 8, 0.0, None),
    (r"turbo", "Turbo", 4, 0.0, "euler_a"),
    (r"schnell", "schnell", 4, 0.0, None),
)
_STEP_COUNT = re.compile(r"(\d{1,2})[-_ ]?steps?")


def _scheduler_class(path: Path) -> str:
    """The scheduler class a folder (or the config folder beside a single
    file) names; "" when there is none or it cannot be read."""
    for folder in (path, path.with_suffix("")):
        config = folder / "scheduler" / "scheduler_config.json"
        try:
            return str(json.loads(config.read_text(encoding="utf-8")).get("_class_name", ""))
        except (OSError, ValueError, AttributeError):
            continue
    return ""


def live_settings(path: str | Path, kind: str, prediction: str = "",
                  variant_name: str | None = None) -> LiveSettings:
    """The live settings for the model at `path` of identified `kind`."""
    path = Path(path)
    name = path.name.lower()
    found = families.likely_variant(kind, prediction, variant_name)
    if found is not None and found[1].steps <= FEW_STEPS:
        spec, variant = found
        return LiveSettings(variant.steps, variant.guidance, spec.default_sampler,
                            note=f"{variant.label}: live at its own {variant.steps} steps")
    counted = _STEP_COUNT.search(name)
    for pattern, label, steps, cfg, sampler in _NAMED:
        if re.search(pattern, name):
            steps = int(counted.group(1)) if counted else steps
            if label == "Hyper-SD" and "cfg" in name:
                cfg = None  # the CFG-preserving Hyper-SD models take the panel's guidance
            return LiveSettings(steps, cfg, sampler,
                                note=f"{label} model: live at {steps} steps")
    if _scheduler_class(path) == "LCMScheduler":
        return LiveSettings(4, 1.5, "lcm", note="LCM model: live at 4 steps")
    return LiveSettings(
        ORDINARY_STEPS, strength=ORDINARY_STRENGTH, few_step=False,
        note=(f"{path.stem} is not a few-step model: live runs it at {ORDINARY_STEPS} steps "
              f"and strength {ORDINARY_STRENGTH}. An LCM, Turbo, Lightning, Hyper or schnell "
              "model follows the brush faster."))
