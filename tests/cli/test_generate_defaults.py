"""`artstudio generate` takes its defaults and choices from GenerationParams,
SEED_MODES and the sampler table, so they cannot drift from the panel's."""

from __future__ import annotations

from artstudio.cli import _command_parser
from artstudio.diffusion.params import SEED_MODES, GenerationParams
from artstudio.diffusion.schedulers import SAMPLERS


def choices(parser, dest):
    return next(a.choices for a in parser._actions if a.dest == dest)


def test_generate_defaults_are_generation_params_defaults():
    parser, _module = _command_parser("generate")
    args = parser.parse_args(["--model", "m.safetensors"])
    defaults = GenerationParams(model="")
    for option, field in (("seed", "seed"), ("seed_mode", "seed_mode"), ("count", "count"),
                          ("strength", "strength"), ("device", "device"),
                          ("only_masked", "only_masked")):
        assert getattr(args, option) == getattr(defaults, field), option
    # Steps, guidance and sampler come from the model's family (the registry).
    assert (args.steps, args.cfg, args.guidance, args.scheduler) == (None, None, None, None)
    assert list(choices(parser, "seed_mode")) == list(SEED_MODES)
    assert list(choices(parser, "scheduler")) == list(SAMPLERS)


def test_help_states_the_defaults():
    parser, _module = _command_parser("generate")
    text = parser.format_help()
    assert "(default 0.75)" in text and "euler_a for Stable" in text
