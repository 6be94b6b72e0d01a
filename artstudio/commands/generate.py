"""`artstudio generate`: text-to-image, image-to-image, inpainting and
outpainting without a window, writing PNGs that carry their parameters.

    artstudio generate --model sd15.safetensors --prompt "a lighthouse at dusk" --count 4
    artstudio generate --model ./my-diffusers-folder --prompt "oil painting" \\
        --init sketch.png --strength 0.6 --out painting.png
    artstudio generate --model sd15-inpainting.safetensors --prompt "a red door" \\
        --init photo.png --mask door-mask.png --only-masked
    artstudio generate --model flux1-kontext-dev.safetensors --variant flux-kontext \\
        --mode edit --init photo.png --prompt "make it night" --guidance 2.5
    artstudio generate --model ComfyUI/models/diffusion_models/flux1-dev.safetensors \\
        --prompt "a lighthouse at dusk"   # clip_l, t5xxl and ae found beside it

Steps, guidance and sampler default to the model family's (Stable Diffusion:
20 steps, CFG 7, Euler a; FLUX.1 dev: 28 steps, guidance 3.5; schnell: 4 steps).

Exit status: 0 done, 1 generation failed (the reason on stderr), 2 bad
arguments or an unusable model, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from artstudio.commands import control_options, reference_options
from artstudio.commands.assist_options import (
    add_assist_arguments,
    assist_fields,
    prepare_assists,
)


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
    from artstudio.diffusion.families import ALL_MODES, variant_names
    from artstudio.diffusion.params import SEED_MODES, GenerationParams
    from artstudio.diffusion.schedulers import sampler_names

    defaults = GenerationParams(model="")  # the one place the defaults are written
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("--model", required=True, metavar="PATH_OR_REPO",
                        help="a diffusers folder, a single-file checkpoint (.safetensors), the "
                             "diffusion model of a split set (ComfyUI's diffusion_models or "
                             "unet, .safetensors or .gguf), or a Hugging Face repo id already "
                             "downloaded (artstudio download)")
    parser.add_argument("--text-encoder", action="append", default=[], metavar="FILE",
                        help="a split model's text encoder (repeatable; default: found in "
                             "ComfyUI's text_encoders or clip folder)")
    parser.add_argument("--vae", metavar="FILE",
                        help="a split model's VAE (default: found in ComfyUI's vae folder)")
    parser.add_argument("--prompt", default="", help="what to paint")
    parser.add_argument("--negative", default="", metavar="TEXT", help="what to avoid")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help=f"default: the model family's ({defaults.steps} for Stable "
                             "Diffusion)")
    parser.add_argument("--cfg", type=float, default=None, metavar="X",
                        help=f"classifier-free guidance scale (default {defaults.cfg_scale} "
                             "for Stable Diffusion)")
    parser.add_argument("--guidance", type=float, default=None, metavar="X",
                        help="the guidance a distilled model takes (FLUX.1: default 3.5 for "
                             "dev, 2.5 for Kontext, 30 for Fill)")
    parser.add_argument("--seed", type=int, default=defaults.seed, metavar="N",
                        help="default: random")
    parser.add_argument("--seed-mode", choices=SEED_MODES, default=defaults.seed_mode,
                        help="seeds of images after the first (default %(default)s)")
    parser.add_argument("--width", type=int, default=None, metavar="W",
                        help="multiple of 8 (default: the model's size, or the init image's)")
    parser.add_argument("--height", type=int, default=None, metavar="H")
    parser.add_argument("--count", type=int, default=defaults.count, metavar="N",
                        help="images to make")
    parser.add_argument("--scheduler", choices=sampler_names(), default=None,
                        help=f"default: the model family's ({defaults.scheduler} for Stable "
                             "Diffusion, flow_euler for FLUX)")
    parser.add_argument("--mode", choices=ALL_MODES, default=None,
                        help="default: from the inputs (--init, --mask, --outpaint); edit "
                             "changes --init as --prompt instructs (FLUX.1 Kontext)")
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
    _add_lora_arguments(parser)
    control_options.add_arguments(parser)
    reference_options.add_arguments(parser)
    add_assist_arguments(parser)


def _lora_choice(value: str) -> tuple[str, float]:
    """FILE_OR_NAME[:WEIGHT]; a colon not followed by a number is part of the name."""
    name, colon, weight = value.rpartition(":")
    if colon:
        try:
            return name, float(weight)
        except ValueError:
            pass
    return value, 1.0


def _add_lora_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lora", action="append", default=[], type=_lora_choice,
                        metavar="FILE_OR_NAME[:WEIGHT]",
                        help="apply a LoRA (a .safetensors file, or a name found in models/Lora, "
                             "models/LyCORIS or models/loras) with this weight (default 1); "
                             "repeatable. <lora:name:weight> in --prompt works too "
                             "(artstudio loras lists them)")
    parser.add_argument("--embeddings", action="append", default=[], type=Path, metavar="DIR",
                        help="a folder of textual-inversion embeddings, used by file name in "
                             "--prompt and --negative (models/embeddings is always searched)")


def _lora_fields(args: argparse.Namespace) -> dict:
    return {"loras": tuple(args.lora), "embedding_dirs": tuple(str(d) for d in args.embeddings)}


def check_loras(params, spec) -> None:
    """The LoRAs and embeddings asked for, found and fitting the model, before any work."""
    from artstudio.diffusion import prompt_extras

    if spec is not None:
        prompt_extras.check_files(prompt_extras.resolve(params, spec.name,
                                                        spec.negative_prompt))


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


def check_sides(width: int | None, height: int | None, multiple: int = 8) -> None:
    """Refuse a --width or --height that the model cannot take as given."""
    m = multiple
    for flag, side in (("--width", width), ("--height", height)):
        if side is not None and side % m:
            raise ValueError(f"{flag} {side} is not a multiple of {m} (the model works in "
                             f"blocks of {m} pixels): use {max(m, side // m * m)} or "
                             f"{side // m * m + m}")


def usable_model(model: Path):
    """The model's ModelInfo; an unusable model is a bad argument (exit 2),
    found before any work."""
    from artstudio.model_files.identify import identify

    info = identify(model)
    if not info.is_diffusion:
        why = "; ".join(info.notes) or f"it was identified as {info.kind}"
        raise ValueError(f"{Path(model).name} is not a model generate can use: {why}")
    return info


def split_parts(info, text_encoders: list[str], vae: str | None) -> None:
    """A split model's parts, found or named, refused before any work when one is
    missing or belongs to another model; parts named for a whole model are refused."""
    if info.format != "split":
        if text_encoders or vae:
            raise ValueError(f"--text-encoder and --vae are for a split model's diffusion-model "
                             f"file; {info.path.name} holds its own")
        return
    from artstudio.model_files.component_sets import assemble

    for path in [*text_encoders, *([vae] if vae else [])]:
        if not Path(path).is_file():
            raise ValueError(f"{path} is not a file")
    found = assemble(info.path, text_encoders, vae)
    if not found.complete:
        raise ValueError(found.problem())


def check_mode(args: argparse.Namespace) -> None:
    """Refuse a --mode the other arguments do not make."""
    inferred = ("outpaint" if args.outpaint and any(args.outpaint) else "inpaint" if args.mask
                else "img2img" if args.init else "txt2img")
    if args.mode is None or args.mode == inferred:
        return
    if args.mode == "edit":
        if not args.init or args.mask or args.outpaint:
            raise ValueError("--mode edit takes --init IMAGE and --prompt INSTRUCTION, "
                             "without --mask or --outpaint")
        if not args.prompt.strip():
            raise ValueError("--mode edit needs --prompt: the instruction (\"make it night\")")
        return
    needs = {"txt2img": "no --init", "img2img": "--init without --mask",
             "inpaint": "--init and --mask", "outpaint": "--init and --outpaint"}
    raise ValueError(f"--mode {args.mode} needs {needs[args.mode]}")


def guidance_of(args: argparse.Namespace, kind: str, default: float | None) -> float:
    """--guidance for distilled models, --cfg for the others; each refused
    where it does not apply."""
    if kind == "distilled" and args.cfg is not None:
        raise ValueError("this model takes distilled guidance, not CFG: use --guidance X")
    if kind != "distilled" and args.guidance is not None:
        raise ValueError("--guidance is for distilled models (FLUX.1); this one takes --cfg X")
    given = args.guidance if kind == "distilled" else args.cfg
    return given if given is not None else (7.0 if default is None else default)


def build_params(args: argparse.Namespace):
    from artstudio.diffusion import families
    from artstudio.diffusion.params import GenerationParams, check_params
    from artstudio.model_files.hub import resolve_model
    from artstudio.settings import load_settings

    args.model = resolve_model(str(args.model))
    if (args.mask or args.outpaint) and not args.init:
        raise ValueError("--mask and --outpaint need --init IMAGE")
    check_mode(args)
    _check_out(args.out, args.count, args.overwrite)
    info = usable_model(args.model)
    split_parts(info, args.text_encoder, args.vae)
    spec = families.family_of_kind(info.kind)
    check_sides(args.width, args.height, spec.latent.size_multiple if spec else 8)
    settings = load_settings()[0]
    limit = settings.max_image_megapixels
    init = load_picture(args.init, limit) if args.init else None
    mask = load_picture(args.mask, limit, grey=True) if args.mask else None
    variant = args.variant or remembered_variant(info, settings)
    family = families.defaults_for(info.kind, info.prediction, variant)
    likely = families.likely_variant(info.kind, info.prediction, variant)
    if args.mode == "edit" and likely and "edit" not in likely[1].modes:
        raise ValueError(f"{Path(args.model).name} cannot edit by instruction: --mode edit "
                         "needs FLUX.1 Kontext (--variant flux-kontext for a Kontext file)")
    cfg = guidance_of(args, spec.guidance if spec else "cfg", family.get("cfg_scale"))
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
        steps=args.steps if args.steps is not None else family.get("steps", 20),
        cfg_scale=cfg, seed=args.seed, seed_mode=args.seed_mode,
        width=width, height=height, count=args.count,
        scheduler=args.scheduler or family.get("scheduler", "euler_a"),
        init_image=init, strength=args.strength, mask=mask, only_masked=args.only_masked,
        outpaint=args.outpaint, variant=variant, edit=args.mode == "edit",
        text_encoders=tuple(str(p) for p in args.text_encoder), vae=args.vae,
        device=args.device, preview_every=0, **_lora_fields(args),
        **assist_fields(args, spec),
        controls=control_options.controls(args, info, settings),
        regions=control_options.regions(args, info, settings),
        references=reference_options.references(args, info, settings),
    )
    check_params(params)  # a value out of range is a bad argument, refused before loading
    check_loras(params, spec)
    return params


def run(args: argparse.Namespace) -> int:
    from artstudio.commands.terminal import TerminalProgress
    from artstudio.diffusion.generate import generate_to_files
    from artstudio.engine.errors import UserFacingError, describe_error

    try:
        params = build_params(args)
        params, assists = prepare_assists(params, args)
    except (ValueError, UserFacingError) as exc:
        print(f"artstudio generate: {exc}", file=sys.stderr)
        return 2
    if params.variant and not args.variant:  # stdout lists only the files written
        print(f"artstudio generate: {Path(params.model).name} taken as {params.variant}, "
              "as chosen in the app (--variant chooses another)", file=sys.stderr)
    progress = TerminalProgress()
    try:
        written = generate_to_files(params, args.out, progress, overwrite=args.overwrite,
                                    choose=assists.choose)
    except Exception as exc:  # every failure becomes one line; details are in the log
        progress.close()
        import logging

        logging.getLogger(__name__).exception("generate failed")
        print(f"artstudio generate: {describe_error(exc)}", file=sys.stderr)
        return 1
    progress.close()
    for note in assists.notes:
        print(f"artstudio generate: {note}", file=sys.stderr)
    for path in written:
        print(path)
    return 0
