"""Sampler names the UI shows, mapped to diffusers scheduler classes.

Each entry keeps the model's own training schedule (betas, prediction type,
timestep spacing) via `from_config` and only changes the solver, which is
what "sampler" means to artists coming from AUTOMATIC1111.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SamplerSpec:
    name: str  # our id, stable in settings and metadata
    label: str  # AUTOMATIC1111's name, for PNG metadata and the UI
    class_name: str  # diffusers scheduler class
    overrides: dict[str, Any] = field(default_factory=dict)


SAMPLERS: dict[str, SamplerSpec] = {s.name: s for s in (
    SamplerSpec("euler", "Euler", "EulerDiscreteScheduler"),
    SamplerSpec("euler_a", "Euler a", "EulerAncestralDiscreteScheduler"),
    SamplerSpec("dpmpp_2m", "DPM++ 2M", "DPMSolverMultistepScheduler",
                {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False}),
    SamplerSpec("dpmpp_2m_karras", "DPM++ 2M Karras", "DPMSolverMultistepScheduler",
                {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
    SamplerSpec("ddim", "DDIM", "DDIMScheduler", {"set_alpha_to_one": False}),
    SamplerSpec("lcm", "LCM", "LCMScheduler"),
    # Flow-matching models (FLUX) are trained for this one: the noise-prediction
    # solvers above do not fit their schedule (FamilySpec.samplers).
    SamplerSpec("flow_euler", "Euler (flow matching)", "FlowMatchEulerDiscreteScheduler"),
)}
DEFAULT_SAMPLER = "euler_a"


def sampler_names() -> list[str]:
    return list(SAMPLERS)


def spec(name: str) -> SamplerSpec:
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}") from None


def from_label(label: str) -> str | None:
    """Our id for an AUTOMATIC1111 sampler label ("DPM++ 2M Karras" -> dpmpp_2m_karras);
    None when we have no equivalent."""
    wanted = label.strip().lower()
    for s in SAMPLERS.values():
        if s.label.lower() == wanted:
            return s.name
    return None


def make_scheduler(name: str, base_config: dict[str, Any]):
    """A new scheduler of sampler `name`, built from the pipeline's scheduler config."""
    import diffusers

    s = spec(name)
    cls = getattr(diffusers, s.class_name)
    config = dict(base_config)
    # Euler a and DDIM with "leading" spacing and SD's offset match A1111's results.
    return cls.from_config(config, **s.overrides)
