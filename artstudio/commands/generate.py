"""`artstudio generate`: text-to-image, image-to-image, inpainting and
outpainting without a window, writing PNGs that carry their parameters.

    artstudio generate --model sd15.safetensors --prompt "a lighthouse at dusk" --count 4
    artstudio generate --model ./my-diffusers-folder --prompt "oil painting" \\
        --init sketch.png --strength 0.6 --out painting.png
    artstudio generate --model sd15-inpainting.safetensors --prompt "a red door" \\
        --init photo.png --mask door-mask.png --only-masked

Exit status: 0 done, 1 generation failed (the reason on stderr), 2 bad
arguments or an unusable model, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _outpaint(value: str) -> tuple[int, int, int, int]:
    parts = [p.strip() for p in value.split(",")]
    if len(parts) == 1:
        parts *= 4
    if len(parts) != 4:
        raise argparse.ArgumentTypeError("give N, or LEFT,TOP,RIGHT,BOTTOM in pixels")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("outpaint sizes must be whole numbers") from exc
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("outpaint sizes cannot be negative")
    return values  # type: ignore[return-value]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from artstudio.diffusion.families import variant_names
    from artstudio.diffusion.params import SEED_MODES, GenerationParams
    from artstudio.diffusion.schedulers import sampler_names

    defaults = GenerationParams(model="")  # the one place the defaults are written
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("--model", required=True, metavar="PATH_OR_REPO",
                        help="a diffusers folder, a single-file checkpoint (.safetensors), or a "
                             "Hugging Face repo id already downloaded (artstudio download)")
    parser.add_argument("--prompt", default="", help="what to paint")
    parser.add_argument("--negative", default="", metavar="TEXT", help="what to avoid")
    parser.add_argument("--steps", type=int, default=defaults.steps, metavar="N",
                        help="default %(default)s")
    parser.add_argument("--cfg", type=float, default=defaults.cfg_scale, metavar="X",
                        help="guidance scale (default %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed, metavar="N",
                        help="default: random")
    parser.add_argument("--seed-mode", choices=SEED_MODES, default=defaults.seed_mode,
                        help="seeds of images after the first (default %(default)s)")
    parser.add_argument("--width", type=int, default=None, metavar="W",
                        help="multiple of 8 (default: the model's size, or the init image's)")
    parser.add_argument("--height", type=int, default=None, metavar="H")
    parser.add_argument("--count", type=int, default=defaults.count, metavar="N",
                        help="images to make")
    parser.add_argument("--scheduler", choices=sampler_names(), default=defaults.scheduler,
                        help="default %(default)s")
    parser.add_argument("--init", type=Path, metavar="IMAGE", help="start from this image")
    parser.add_argument("--strength", type=float, default=defaults.strength, metavar="S",
                        help="0-1: how much of --init is re-imagined (default %(default)s)")
    parser.add_argument("--mask", type=Path, metavar="IMAGE",
                        help="white where --init is repainted (inpainting)")
    parser.add_argument("--only-masked", action="store_true",
                        help="work on the masked area at the model's resolution")
    parser.add_argument("--outpaint", type=_outpaint, metavar="L,T,R,B",
                        help="extend --init by these many pixels and fill them")
    parser.add_argument("--variant", choices=variant_names(), metavar="VARIANT",
                        help="the model's variant when its file cannot tell (SD 2: sd2 for "
                             "512 px noise prediction, sd2-v for 768 px v-prediction); one of "
                             + ", ".join(variant_names())
                             + " (default: the answer given for this file in the app)")
    parser.add_argument("--device", default=defaults.device,
                        help="auto, cpu, cuda or mps (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("."), metavar="FILE_OR_DIR",
                        help="a folder (files named by seed) or, for one image, a .png")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out FILE.png when it exists (default: refuse)")


def load_picture(path: Path, max_megapixels: float, grey: bool = False):
    from PIL import Image

    from artstudio.document.io_images import load_image

    pixels, _notes = load_image(path, max_megapixels)
    image = Image.fromarray(pixels, "RGBA")
    return image.convert("L") if grey else image.convert("RGB")


def remembered_variant(info, settings) -> str | None:
    """The variant chosen for this model in the app (Settings.model_variants),
    when its file cannot tell which it is."""
    return settings.model_variants.get(info.short_hash) if info.needs_variant_choice else None


def _check_out(out: Path, count: int, overwrite: bool) -> None:
    """Refuse an --out that would become something else than it names."""
    from artstudio.document.save import EXPORT_FORMATS

    suffix = out.suffix.lower()
    if suffix in EXPORT_FORMATS and suffix != ".png":
        raise ValueError(f"--out {out.name}: generate writes PNG, which carries the settings "
                         "that made the picture; name the file .png (artstudio export converts)")
    if suffix == ".png" and count > 1:
        raise ValueError(f"--out {out.name} names one file, but --count {count} makes "
                         f"{count} images: give a folder")
    if suffix == ".png" and out.exists() and not overwrite:
        raise ValueError(f"--out {out.name} already exists: choose another name, or add "
                         "--overwrite to replace it")


def check_sides(width: int | None, height: int | None) -> None:
    """Refuse a --width or --height that the model cannot take as given."""
    for flag, side in (("--width", width), ("--height", height)):
        if side is not None and side % 8:
            raise ValueError(f"{flag} {side} is not a multiple of 8 (the model works in blocks "
                             f"of 8 pixels): use {max(8, side // 8 * 8)} or {side // 8 * 8 + 8}")


def usable_model(model: Path):
    """The model's ModelInfo; an unusable model is a bad argument (exit 2),
    found before any work."""
    from artstudio.model_files.identify import identify

    info = identify(model)
    if not info.is_diffusion:
        why = "; ".join(info.notes) or f"it was identified as {info.kind}"
        raise ValueError(f"{Path(model).name} is not a model generate can use: {why}")
    return info


def build_params(args: argparse.Namespace):
    from artstudio.diffusion import families
    from artstudio.diffusion.params import GenerationParams, check_params
    from artstudio.model_files.hub import resolve_model
    from artstudio.settings import load_settings

    args.model = resolve_model(str(args.model))
    if (args.mask or args.outpaint) and not args.init:
        raise ValueError("--mask and --outpaint need --init IMAGE")
    _check_out(args.out, args.count, args.overwrite)
    check_sides(args.width, args.height)
    info = usable_model(args.model)
    settings = load_settings()[0]
    limit = settings.max_image_megapixels
    init = load_picture(args.init, limit) if args.init else None
    mask = load_picture(args.mask, limit, grey=True) if args.mask else None
    variant = args.variant or remembered_variant(info, settings)
    width, height = args.width, args.height
    if width is None or height is None:  # 0 is refused below, never taken as "default"
        if init is not None:
            default_w, default_h = init.width, init.height
        else:
            default_w = default_h = families.default_size(info.kind, info.prediction, variant)
        width = default_w if width is None else width
        height = default_h if height is None else height
    params = GenerationParams(
        model=str(args.model), prompt=args.prompt, negative_prompt=args.negative,
        steps=args.steps, cfg_scale=args.cfg, seed=args.seed, seed_mode=args.seed_mode,
        width=width, height=height, count=args.count, scheduler=args.scheduler,
        init_image=init, strength=args.strength, mask=mask, only_masked=args.only_masked,
        outpaint=args.outpaint, variant=variant,
        device=args.device, preview_every=0,
    )
    check_params(params)  # a value out of range is a bad argument, refused before loading
    return params


def run(args: argparse.Namespace) -> int:
    from artstudio.commands.terminal import TerminalProgress
    from artstudio.diffusion.generate import generate_to_files
    from artstudio.engine.errors import UserFacingError, describe_error

    try:
        params = build_params(args)
    except (ValueError, UserFacingError) as exc:
        print(f"artstudio generate: {exc}", file=sys.stderr)
        return 2
    if params.variant and not args.variant:  # stdout lists only the files written
        print(f"artstudio generate: {Path(params.model).name} taken as {params.variant}, "
              "as chosen in the app (--variant chooses another)", file=sys.stderr)
    progress = TerminalProgress()
    try:
        written = generate_to_files(params, args.out, progress, overwrite=args.overwrite)
    except Exception as exc:  # every failure becomes one line; details are in the log
        progress.close()
        import logging

        logging.getLogger(__name__).exception("generate failed")
        print(f"artstudio generate: {describe_error(exc)}", file=sys.stderr)
        return 1
    progress.close()
    for path in written:
        print(path)
    return 0
