"""`artstudio describe IMAGE`: a prompt for a picture, from a local
image-captioning model, printed on stdout.

Exit status as every command's: 0 printed; 2 bad arguments or no usable
captioning model; 1 the image could not be read or the model gave nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="a PNG, JPEG, WebP, BMP or TIFF image")
    parser.add_argument("--model", metavar="PATH",
                        help="a captioning model folder (BLIP, Florence-2, GIT...); default: "
                             "the first in the models folder's captioners/ or the HF cache")
    parser.add_argument("--tags", action="store_true",
                        help="comma-separated tags, the style anime-family models expect")
    parser.add_argument("--seed", type=int, default=0, help="another seed, another wording")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from artstudio.assists import describe
    from artstudio.document.io_images import load_image
    from artstudio.engine.devices import choose_device
    from artstudio.engine.errors import UserFacingError

    try:
        captioner = describe.load_captioner(args.model, choose_device(args.device).device)
    except UserFacingError as exc:
        print(f"artstudio describe: {exc}", file=sys.stderr)
        return 2
    try:
        pixels, _notes = load_image(args.image)
        caption = describe.describe(captioner, Image.fromarray(pixels[..., :3], "RGB"),
                                    args.seed)
    except UserFacingError as exc:
        print(f"artstudio describe: {exc}", file=sys.stderr)
        return 1
    print(describe.as_tags(caption) if args.tags else caption)
    return 0
