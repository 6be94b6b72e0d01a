"""`artstudio export INPUT OUTPUT`: convert without a window, like `krita --export`.

Any supported image or .ora in; .ora (layers kept) or a flattened PNG, JPEG or
WebP out, chosen by OUTPUT's extension. Exit status as every command's: 0
done; 2 bad arguments (a missing or non-regular INPUT, an OUTPUT type that
cannot be written, a bad --quality); 1 the file itself failed (unreadable,
over the size limit, a write that failed), each with a one-line reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="an image (PNG, JPEG, WebP, BMP, TIFF) or .ora")
    parser.add_argument("output", type=Path, help="an .ora, .png, .jpg or .webp file")
    parser.add_argument("--quality", type=int, default=92, metavar="Q",
                        help="JPEG/WebP quality 1-100 (default 92)")
    parser.add_argument("--max-megapixels", type=float, metavar="N",
                        help="refuse larger images (default: the Settings limit)")


def run(args: argparse.Namespace) -> int:
    from artstudio.document.save import convert
    from artstudio.engine.errors import UserFacingError
    from artstudio.settings import load_settings

    if not 1 <= args.quality <= 100:
        print("artstudio export: --quality must be between 1 and 100", file=sys.stderr)
        return 2
    refusal = _bad_arguments(args)
    if refusal:
        print(f"artstudio export: {refusal}", file=sys.stderr)
        return 2
    limit = args.max_megapixels or load_settings()[0].max_image_megapixels
    try:
        notes = convert(args.input, args.output, quality=args.quality, max_megapixels=limit)
    except UserFacingError as exc:
        print(f"artstudio export: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(args.output)
    return 0


def _bad_arguments(args: argparse.Namespace) -> str | None:
    """What makes the command impossible before anything is read (exit 2,
    as `style` and `upscale` refuse a missing INPUT)."""
    from artstudio.document.save import SAVE_SUFFIXES, unknown_type
    from artstudio.engine.file_kinds import not_regular_reason
    from artstudio.engine.printable import printable

    reason = not_regular_reason(args.input)
    if reason:
        return f"“{printable(args.input.name)}”: {reason}"
    if args.output.suffix.lower() not in SAVE_SUFFIXES:
        return f"“{printable(args.output.name)}”: {unknown_type(args.output)}"
    return None
