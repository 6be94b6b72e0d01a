"""`artstudio upscale INPUT OUTPUT`: super-resolution on one image or a folder.

    artstudio upscale photo.png big.png
    artstudio upscale photo.png big.png --model 4x-UltraSharp.safetensors
    artstudio upscale renders/ print/ --model RealESRGAN_x4plus.pth --scale 3 --recursive
    artstudio upscale texture.png texture-2x.png --seamless

--model takes any single-image super-resolution model that spandrel knows
(.pth read with weights_only, or .safetensors), Stable Diffusion's x4
upscaler as a diffusers folder (with --prompt), "builtin" (the default: the
networks shipped with Artstudio, 2x up to --scale 2 and 4x above) or
"lanczos" (no network). PNG results at the model's own scale are written
band by band, so a huge result never has to fit in memory. Exit status: 0 all
done, 1 a file failed, 2 bad arguments or an unusable model, 130 cancelled.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from artstudio.commands.folder_command import add_folder_arguments, run_folder_command
from artstudio.upscale.builtin import BUILTIN

LANCZOS = "lanczos"
# A large upscale can take minutes: cancelling stops it at the next tile.
STOP_NOW = "cancelling: the image in progress is dropped (nothing partial is written)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    add_folder_arguments(parser)
    parser.add_argument("--model", default=BUILTIN, metavar="FILE|FOLDER|builtin|lanczos",
                        help="an upscaler model file, an SD x4 upscaler folder, builtin "
                             "(default) or lanczos")
    parser.add_argument("--scale", type=float, metavar="S",
                        help="output scale, any number (default: the model's, or 2)")
    parser.add_argument("--tile", type=int, metavar="PX",
                        help="tile side in pixels (default: from free memory)")
    parser.add_argument("--seamless", action="store_true",
                        help="wrap the borders so a tileable texture stays tileable")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    sd = parser.add_argument_group("Stable Diffusion x4 upscaler (--model FOLDER)")
    sd.add_argument("--prompt", default="", help="what the image shows; guides the new detail")
    sd.add_argument("--steps", type=int, default=20, help="denoising steps (default 20)")
    sd.add_argument("--noise-level", type=int, default=20,
                    help="noise added to the input, 0-350: more invents more (default 20)")
    sd.add_argument("--seed", type=int, default=0,
                    help="seed of the invented detail: the same seed gives the same result")


def run(args: argparse.Namespace) -> int:
    from artstudio.upscale.upscaling import UpscaleOptions, upscale_processor

    if args.scale is not None and not 0 < args.scale <= 16:
        print("artstudio upscale: error: --scale must be above 0 and at most 16", file=sys.stderr)
        return 2
    if args.tile is not None and args.tile < 32:
        print("artstudio upscale: error: --tile must be at least 32", file=sys.stderr)
        return 2
    model = None if args.model.lower() == LANCZOS else args.model
    options = UpscaleOptions(model=model, scale=args.scale, tile=args.tile,
                             seamless=args.seamless, device=args.device, prompt=args.prompt,
                             steps=args.steps, noise_level=args.noise_level, seed=args.seed)

    return run_folder_command(args, "upscale", functools.partial(upscale_processor, options),
                              describe(model, args.scale), STOP_NOW, options=options)


def describe(model: str | None, scale: float | None) -> str:
    """The first line of a run: "upscale 2x with Lanczos", "upscale 3x with
    the built-in model", "upscale with 4x-UltraSharp.pth at its own scale"."""
    from artstudio.engine.printable import printable

    if model is None or model == BUILTIN:
        # Both default to 2x (the built-in 2x network, or Lanczos at 2).
        what = "Lanczos" if model is None else "the built-in model"
        return f"upscale {scale or 2:g}x with {what}"
    name = printable(Path(model).name)
    return f"upscale {scale:g}x with {name}" if scale else \
        f"upscale with {name} at its own scale"
