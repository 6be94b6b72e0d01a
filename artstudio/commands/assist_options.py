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
    group.add_argument("--expand", action="store_true",
                       help="a local language model rewrites --prompt into a detailed one "
                            "(seeded: the same seed, the same words); both prompts go into "
                            "the metadata")
    group.add_argument("--lm", metavar="PATH",
                       help="the language model folder for --expand (default: the first in "
                            "the models folder's lm/ or the Hugging Face cache)")


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
    if args.lm and not args.expand:
        raise ValueError("--lm names the model --expand rewrites the prompt with: add --expand")
    if args.expand and not args.prompt.strip():
        raise ValueError("--expand rewrites --prompt: give a short one")
    return {"tileable": args.tileable}


@dataclass
class CommandAssists:
    """What the assists do around one `artstudio generate` run."""

    notes: list[str] = field(default_factory=list)  # printed on stderr after the run
    choose: Callable | None = None  # generate_to_files' choose: the K best


def prepare_assists(params, args: argparse.Namespace):
    """(params, CommandAssists) before any generation: the prompt expanded,
    the CLIP model found; a model named that cannot serve is refused
    (UserFacingError: a bad argument)."""
    assists = CommandAssists()
    if args.expand:
        params = _expanded(params, args, assists.notes)
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


def _expanded(params, args: argparse.Namespace, notes: list[str]):
    """`params` with the expansion as its prompt and the prompt as written
    kept as original_prompt; unchanged, with a note, when no language model
    is found or its expansion is empty."""
    import dataclasses
    import secrets

    from artstudio.assists.expand import cached_expander, expand
    from artstudio.assists.local_models import LANGUAGE_MODEL, find_local, resolve, search_roots
    from artstudio.engine.devices import choose_device
    from artstudio.engine.errors import UserFacingError

    if params.seed is None:  # one seed for the expansion and the first image
        params = dataclasses.replace(params, seed=secrets.randbelow(2**32))
    found = [resolve(LANGUAGE_MODEL, args.lm)] if args.lm else find_local(LANGUAGE_MODEL)
    if not found:
        where = " or ".join(str(r) for r in search_roots(LANGUAGE_MODEL))
        notes.append(f"No language model was found in {where}; the prompt is used as "
                     "written.")
        return params
    lm = cached_expander(str(found[0]), choose_device(args.device).device)
    try:
        text, cut = expand(lm, params.prompt, params.seed)
    except UserFacingError as exc:  # an empty expansion: the prompt as written
        notes.append(str(exc))
        return params
    notes += [f"The prompt, expanded by {found[0].name}: {text}", *cut]
    return dataclasses.replace(params, prompt=text, original_prompt=params.prompt)
