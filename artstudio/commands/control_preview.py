"""`artstudio control-preview KIND IMAGE OUT`: the control image that
`generate --control KIND:IMAGE` would use, written as a PNG, to look at it
before generating.

    artstudio control-preview canny sketch.png sketch-canny.png
    artstudio control-preview scribble lines.png lines-scribble.png
    artstudio control-preview softedge_hed photo.png photo-hed.png

Exit status as every command's: 0 written; 2 a bad argument (an unknown kind,
a missing image, an OUT that exists) or a preprocessor whose model is missing;
1 the image could not be read or OUT not written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from artstudio.control.kinds import KINDS

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("kind", metavar="KIND", help=", ".join(KINDS) + ", or a preprocessor "
                        "of one (softedge_hed, lineart_model, lineart_coarse, lineart_anime)")
    parser.add_argument("image", type=Path, help="the layer or picture (PNG, JPEG, WebP...)")
    parser.add_argument("out", type=Path, help="the control image, a .png")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT when it exists")


def _refusal(args: argparse.Namespace) -> str | None:
    from artstudio.control import preprocessors
    from artstudio.engine.errors import UserFacingError

    try:
        _kind, preprocessor = preprocessors.resolve(args.kind)
    except UserFacingError as exc:
        return str(exc)
    if not args.image.exists():
        return f"{args.image} does not exist"
    if args.out.suffix.lower() != ".png":
        return f"{args.out.name}: the control image is written as PNG; name it .png"
    if args.out.exists() and not args.overwrite:
        return f"{args.out.name} already exists: choose another name, or add --overwrite"
    return preprocessors.unavailable_reason(preprocessor)


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from artstudio.control import preprocessors
    from artstudio.document.io_images import load_image
    from artstudio.engine.errors import UserFacingError
    from artstudio.settings import load_settings

    refusal = _refusal(args)
    if refusal:
        print(f"artstudio control-preview: {refusal}", file=sys.stderr)
        return 2
    try:
        pixels, _notes = load_image(args.image, load_settings()[0].max_image_megapixels)
        control = preprocessors.preprocess(args.kind, pixels)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(control, "RGB").save(args.out)
    except (UserFacingError, OSError) as exc:
        print(f"artstudio control-preview: {exc}", file=sys.stderr)
        return 1
    print(args.out)
    return 0
