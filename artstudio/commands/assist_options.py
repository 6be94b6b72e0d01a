"""The assists' options of `artstudio generate`: --tileable, --best K with
--clip PATH (best-of-N ranked by CLIP), --expand with --lm PATH (prompt
expansion by a local language model)."""

from __future__ import annotations

import argparse


def add_assist_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("assists")
    group.add_argument("--tileable", action="store_true",
                       help="a texture that wraps left-right and top-bottom without a seam "
                            "(UNet models: SD 1.x, 2.x, SDXL)")


def assist_fields(args: argparse.Namespace, spec) -> dict:
    """The GenerationParams fields the assists' options give; ValueError (a
    bad argument) for one the model cannot take."""
    from artstudio.assists.tileable import family_reason

    if args.tileable and family_reason(spec):
        raise ValueError(f"--tileable: {family_reason(spec)}")
    return {"tileable": args.tileable}
