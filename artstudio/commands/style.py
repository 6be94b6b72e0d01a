"""`artstudio style INPUT OUTPUT`: style transfer on one image or a folder.

    artstudio style photos/ styled/ --style frost --recursive
    artstudio style photo.jpg out.png --style 3:0.7,lilac:0.3 --strength 0.8
    artstudio style photos/ styled/ --style-image starry.jpg@0.6 --style-image wave.png@0.4
    artstudio style photos/ painted/ --cyclegan monet_net_G.pth --format jpg
    artstudio style --list-styles

Exit status: 0 all done, 1 a file failed, 2 bad arguments or an unusable
model, 130 cancelled with Ctrl-C (the image in hand is finished first).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from artstudio.commands.folder_command import add_folder_arguments

EPILOG = """\
styles:
  --style takes an index (0-25) or a name (see --list-styles), or a blend of
  several as STYLE:WEIGHT pairs separated by commas, e.g. 3:0.7,lilac:0.3
  (weights are scaled to sum to 1; a missing weight counts 1).
  --style-image FILE uses any painting as the style; repeat it to mix several,
  giving each a weight as FILE@WEIGHT, e.g. --style-image a.jpg@0.7 --style-image b.jpg@0.3.
  --cyclegan FILE runs a CycleGAN painter generator (.pth or .safetensors).

exit status: 0 all done, 1 some file failed (see the summary or --report),
2 bad arguments or an unusable model, 130 cancelled.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    add_folder_arguments(parser)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--style", metavar="N[:W,...]",
                        help="built-in style by index or name, or a blend (see below)")
    source.add_argument("--style-image", metavar="FILE[@W]", action="append",
                        help="a painting to take the style from (repeatable)")
    source.add_argument("--cyclegan", metavar="FILE", type=Path,
                        help="a CycleGAN generator file (.pth or .safetensors)")
    parser.add_argument("--list-styles", action="store_true",
                        help="list the built-in styles and exit")
    parser.add_argument("--strength", type=float, default=1.0, metavar="S",
                        help="0-1: how much style (default 1)")
    parser.add_argument("--preserve-color", action="store_true",
                        help="keep the original colours, take light and texture from the style")
    parser.add_argument("--max-size", type=int, metavar="PX",
                        help="work at most at this longer side, then restore full size "
                             "(built-in and CycleGAN; default: full size)")
    parser.add_argument("--device", default="auto",
                        help="auto (default), cpu, cuda or mps")
    parser.add_argument("--tile", type=int, default=512, help="CycleGAN tile size (default 512)")


class BadArguments(Exception):
    """Arguments that cannot work together; exit status 2."""


def parse_style_image(value: str) -> tuple[str, float]:
    """"painting.jpg@0.3" -> ("painting.jpg", 0.3); a name that exists as a
    file is taken whole, so a file with an @ in its name still works."""
    if Path(value).is_file() or "@" not in value:
        return value, 1.0
    path, _, weight = value.rpartition("@")
    try:
        return path, float(weight)
    except ValueError:
        raise BadArguments(f"bad weight in --style-image {value!r}; use FILE@WEIGHT") from None


def _check_file(what: str, path: str | Path) -> None:
    """BadArguments unless `path` is a regular file, saying what it is instead
    (never opened: a named pipe would block)."""
    from artstudio.engine.file_kinds import not_regular_reason
    from artstudio.engine.printable import printable

    reason = not_regular_reason(path)
    if reason is not None:
        raise BadArguments(f"{what} {printable(path)}: {reason}")


def build_options(args: argparse.Namespace):
    """StyleOptions from the arguments, or BadArguments with the reason."""
    from artstudio.style.transfer import StyleOptions

    common = dict(strength=args.strength, preserve_color=args.preserve_color,
                  max_size=args.max_size, device=args.device, tile=args.tile)
    try:
        if args.style_image:
            pairs = [parse_style_image(v) for v in args.style_image]
            for path, _w in pairs:
                _check_file("style image", path)
            return StyleOptions.from_paintings([p for p, _ in pairs],
                                               [w for _, w in pairs], **common)
        if args.cyclegan:
            _check_file("CycleGAN model", args.cyclegan)
            return StyleOptions.cyclegan(args.cyclegan, **common)
        return StyleOptions.builtin(args.style if args.style is not None else "0", **common)
    except ValueError as exc:
        raise BadArguments(str(exc)) from None


def list_styles() -> str:
    from artstudio.style.builtin_styles import BUILTIN_STYLES

    return "\n".join(f"{i:2d}  {name}" for i, name in enumerate(BUILTIN_STYLES))


def _error(message: str) -> int:
    print(f"artstudio style: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    if args.list_styles:
        print(list_styles())
        return 0
    from artstudio.commands.folder_command import run_folder_command
    from artstudio.style.transfer import style_processor

    try:
        options = build_options(args)
    except BadArguments as exc:
        return _error(str(exc))
    return run_folder_command(args, "style", lambda cancel: style_processor(options, cancel),
                              options.describe(), options=options)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command without the main `artstudio` launcher (tests, scripts)."""
    parser = argparse.ArgumentParser(prog="artstudio style",
                                     description="Style transfer on an image or a folder.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
