"""`artstudio interpolate`: a journey between seeds, prompts or two pictures,
written as a PNG sequence (each frame with its parameters), a GIF, a WebP or
an MP4, without a window.

    artstudio interpolate --model sd15.safetensors --prompt "a lighthouse" \\
        --seed 1 --seed 2 --frames 48 --ease ease-in-out --out lighthouse.gif
    artstudio interpolate --model sd15.safetensors --prompt "spring forest" \\
        --prompt "winter forest" --seed 7 --frames 60 --loop --out forest.mp4
    artstudio interpolate --model sd15.safetensors --prompt "a portrait" --seed 3 \\
        --image-a day.png --image-b night.png --strength 0.3 --frames 24 --out morph/

With one prompt and two or more seeds it is seed travel, with two or more
prompts and one seed prompt travel, with as many of each both at once.
Frame 0 is what `artstudio generate` makes with the first seed and prompt
and the same settings, the last frame the last keyframe's.

Exit status: 0 done, 1 generation failed (the reason on stderr), 2 bad
arguments or an unusable model, 130 interrupted (the frames made so far are
written).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

FILE_FORMATS = (".gif", ".webp", ".mp4")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from artstudio.diffusion.families import variant_names
    from artstudio.diffusion.params import GenerationParams
    from artstudio.diffusion.schedulers import sampler_names
    from artstudio.interpolation.journey import EASINGS
    from artstudio.interpolation.samplers import DEFAULT_SAMPLER

    defaults = GenerationParams(model="")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("--model", required=True, metavar="PATH_OR_REPO",
                        help="a diffusers folder, a single-file checkpoint or a downloaded repo")
    parser.add_argument("--prompt", action="append", default=[], metavar="TEXT",
                        help="a keyframe's prompt; repeat for prompt travel")
    parser.add_argument("--negative", default="", metavar="TEXT", help="what to avoid")
    parser.add_argument("--seed", action="append", type=int, default=[], metavar="N",
                        help="a keyframe's seed; repeat for seed travel (default: one random)")
    parser.add_argument("--frames", type=int, metavar="N", help="frames in the journey")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="instead of --frames: the length at --fps")
    parser.add_argument("--steps", type=int, default=defaults.steps, metavar="N",
                        help="default %(default)s")
    parser.add_argument("--width", type=int, default=None, metavar="W",
                        help="multiple of 8 (default: the model's size, or --image-a's)")
    parser.add_argument("--height", type=int, default=None, metavar="H")
    parser.add_argument("--cfg", type=float, default=defaults.cfg_scale, metavar="X",
                        help="guidance scale (default %(default)s)")
    parser.add_argument("--scheduler", choices=sampler_names(), default=DEFAULT_SAMPLER,
                        help="default %(default)s; samplers that add noise at every step "
                             "(euler_a) run as their deterministic counterpart")
    parser.add_argument("--image-a", type=Path, metavar="FILE", help="picture morph: from")
    parser.add_argument("--image-b", type=Path, metavar="FILE", help="picture morph: to")
    parser.add_argument("--strength", type=float, default=0.0, metavar="S",
                        help="picture morph: an image-to-image pass of this strength per frame "
                             "(0-1, default 0: none)")
    parser.add_argument("--ease", choices=EASINGS, default="linear",
                        help="how frames are spaced between keyframes (default %(default)s)")
    parser.add_argument("--even", action="store_true",
                        help="place frames where the pictures change most (even motion)")
    parser.add_argument("--fps", type=float, default=12.0, metavar="F",
                        help="frames per second of the file (default %(default)s)")
    parser.add_argument("--loop", action="store_true",
                        help="return to the first keyframe; the GIF or WebP repeats")
    parser.add_argument("--pingpong", action="store_true",
                        help="play forwards, then backwards")
    parser.add_argument("--batch", type=int, default=0, metavar="N",
                        help="frames per pipeline call (default: as many as memory allows)")
    parser.add_argument("--variant", choices=variant_names(), metavar="VARIANT",
                        help="the model's variant when its file cannot tell (as for generate)")
    parser.add_argument("--device", default=defaults.device,
                        help="auto, cpu, cuda or mps (default %(default)s)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR|FILE",
                        help="a folder (PNG sequence), FILE.gif, FILE.webp or FILE.mp4")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out when it exists (default: refuse)")


def _check_out(out: Path, overwrite: bool) -> None:
    suffix = out.suffix.lower()
    if suffix and suffix not in FILE_FORMATS and not out.is_dir():
        raise ValueError(f"--out {out.name}: give a folder (a PNG sequence), or a .gif, .webp "
                         "or .mp4 file")
    if out.exists() and not overwrite and not (out.is_dir() and not any(out.iterdir())):
        raise ValueError(f"--out {out.name} already exists: choose another name, or add "
                         "--overwrite to replace it")


def build_plan(args: argparse.Namespace):
    """The journey the arguments ask for, checked before any model loads."""
    import secrets

    from artstudio.commands.generate import (
        check_sides,
        load_picture,
        remembered_variant,
        usable_model,
    )
    from artstudio.diffusion import families
    from artstudio.diffusion.params import GenerationParams
    from artstudio.interpolation.journey import JourneyPlan, check_plan, frames_for
    from artstudio.model_files.hub import resolve_model
    from artstudio.settings import load_settings

    if args.even and (len(args.prompt) > 2 or len(args.seed) > 2 or args.loop or args.image_a):
        raise ValueError("--even works between two keyframes (two seeds or two prompts), "
                         "without --loop or a picture morph")
    if bool(args.image_a) != bool(args.image_b):
        raise ValueError("a picture morph needs both --image-a and --image-b")
    if args.strength and not args.image_a:
        raise ValueError("--strength is for a picture morph (--image-a and --image-b)")
    if not args.prompt:
        raise ValueError("give at least one --prompt")
    _check_out(args.out, args.overwrite)
    check_sides(args.width, args.height)
    args.model = resolve_model(str(args.model))
    info = usable_model(args.model)
    settings = load_settings()[0]
    images = None
    if args.image_a:
        limit = settings.max_image_megapixels
        images = (load_picture(args.image_a, limit), load_picture(args.image_b, limit))
    variant = args.variant or remembered_variant(info, settings)
    width, height = args.width, args.height
    if width is None or height is None:
        if images is not None:
            default_w, default_h = images[0].width // 8 * 8, images[0].height // 8 * 8
        else:
            default_w = default_h = families.default_size(info.kind, info.prediction, variant)
        width = default_w if width is None else width
        height = default_h if height is None else height
    seeds = tuple(args.seed) or (secrets.randbelow(2**32),)
    generation = GenerationParams(
        model=str(args.model), negative_prompt=args.negative, steps=args.steps,
        cfg_scale=args.cfg, width=width, height=height, scheduler=args.scheduler,
        variant=variant, device=args.device, preview_every=0)
    plan = JourneyPlan(generation, prompts=tuple(args.prompt), seeds=seeds,
                       frames=frames_for(args.frames, args.duration, args.fps),
                       ease=args.ease, loop=args.loop, images=images, strength=args.strength,
                       batch_size=args.batch)
    check_plan(plan)
    return plan


def run(args: argparse.Namespace) -> int:
    from artstudio.commands.terminal import TerminalProgress, cancel_on_ctrl_c
    from artstudio.engine.cancel import Cancelled, CancelToken
    from artstudio.engine.errors import UserFacingError, describe_error
    from artstudio.interpolation.export import export_frames
    from artstudio.interpolation.travel import FrameStream, even_times

    cancel = CancelToken()
    progress = TerminalProgress()
    try:
        plan = build_plan(args)
        stream = FrameStream(plan, progress, cancel)
    except (ValueError, UserFacingError) as exc:
        print(f"artstudio interpolate: {exc}", file=sys.stderr)
        return 2
    if not args.seed:
        print(f"artstudio interpolate: seed {plan.seeds[0]}", file=sys.stderr)
    for note in stream.notes:
        print(f"artstudio interpolate: {note}", file=sys.stderr)
    told = len(stream.notes)
    restore = cancel_on_ctrl_c(cancel, "stopping after the frames in hand")
    try:
        if args.even:
            times = even_times(plan, progress, cancel)
            stream = FrameStream(replace(plan, times=times), progress, cancel)
        result = export_frames(stream, args.out, fps=args.fps, loop=args.loop,
                               pingpong=args.pingpong, overwrite=args.overwrite, cancel=cancel)
    except Cancelled:
        progress.close()
        print("artstudio interpolate: cancelled while measuring the journey; nothing written",
              file=sys.stderr)
        return 130
    except Exception as exc:  # every failure becomes one line; details are in the log
        progress.close()
        import logging

        logging.getLogger(__name__).exception("interpolate failed")
        print(f"artstudio interpolate: {describe_error(exc)}", file=sys.stderr)
        return 1
    finally:
        restore()
    progress.close()
    for note in stream.notes[told:]:
        print(f"artstudio interpolate: {note}", file=sys.stderr)
    for note in getattr(result, "notes", ()):
        print(f"artstudio interpolate: {note}", file=sys.stderr)
    print(result.path)
    if stream.cancelled or result.cancelled:
        print(f"artstudio interpolate: cancelled; {result.path.name} holds {result.frames} "
              f"of {plan.frames} frames", file=sys.stderr)
        return 130
    return 0
