"""The assists' options of `artstudio generate`: --tileable, --best K with
--clip PATH (best-of-N ranked by CLIP), --expand with --lm PATH (prompt
expansion by a local language model)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field


def add_assist_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("assists")
    group.add_argument("--tileable", action="store_true",
                       help="a texture that wraps left-right and top-bottom without a seam "
                            "(UNet models: SD 1.x, 2.x, SDXL)")
    group.add_argument("--best", type=int, metavar="K",
                       help="with --count N: write only the K images a CLIP model ranks "
                            "closest to the prompt, with their score and rank in the metadata")
    group.add_argument("--clip", metavar="PATH",
                       help="the CLIP model folder for --best (default: the first in the "
                            "models folder's clip/ or the Hugging Face cache)")


def assist_fields(args: argparse.Namespace, spec) -> dict:
    """The GenerationParams fields the assists' options give; ValueError (a
    bad argument) for one the model cannot take."""
    from artstudio.assists.tileable import family_reason

    if args.tileable and family_reason(spec):
        raise ValueError(f"--tileable: {family_reason(spec)}")
    if args.best is not None and not 1 <= args.best <= args.count:
        raise ValueError(f"--best {args.best}: give a number from 1 to --count "
                         f"({args.count})")
    if args.clip and args.best is None:
        raise ValueError("--clip names the model --best ranks with: add --best K")
    return {"tileable": args.tileable}


@dataclass
class CommandAssists:
    """What the assists do around one `artstudio generate` run."""

    notes: list[str] = field(default_factory=list)  # printed on stderr after the run
    choose: Callable | None = None  # generate_to_files' choose: the K best


def prepare_assists(params, args: argparse.Namespace):
    """(params, CommandAssists) before any generation: the CLIP model found
    or refused (UserFacingError: a bad argument)."""
    assists = CommandAssists()
    if args.best is not None:
        assists.choose = _best_of(params, args, assists.notes)
    return params, assists


def _best_of(params, args: argparse.Namespace, notes: list[str]) -> Callable:
    from artstudio.assists.best_of import (
        ScoreRequest,
        clip_folder,
        keep_best,
        no_clip_note,
        score_job,
    )
    from artstudio.engine.cancel import CancelToken

    folder = clip_folder(args.clip)  # a folder that is not CLIP: refused before any work
    if folder is None:
        notes.append(no_clip_note(params.count))
        return lambda result: result

    def choose(result):
        request = ScoreRequest(tuple(result.images), params.prompt, str(folder))
        ranking = score_job(request, lambda *a, **k: None, CancelToken())
        return keep_best(result, ranking, args.best)

    return choose
