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
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

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
    parser.add_argument("input", nargs="?", type=Path, help="an image file or a folder")
    parser.add_argument("output", nargs="?", type=Path,
                        help="an output folder (or a file name when INPUT is one file)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--style", metavar="N[:W,...]",
                        help="built-in style by index or name, or a blend (see below)")
    source.add_argument("--style-image", metavar="FILE[@W]", action="append",
                        help="a painting to take the style from (repeatable)")
    source.add_argument("--cyclegan", metavar="FILE", type=Path,
                        help="a CycleGAN generator file (.pth or .safetensors)")
    parser.add_argument("--list-styles", action="store_true",
                        help="list the built-in styles and exit")
    parser.add_argument("--recursive", "-r", action="store_true",
                        help="include subfolders (their structure is kept in OUTPUT)")
    parser.add_argument("--format", choices=["png", "jpg", "webp"],
                        help="output format (default: png, or OUTPUT's extension)")
    parser.add_argument("--quality", type=int, default=92, metavar="Q",
                        help="JPEG/WebP quality 1-100 (default 92)")
    parser.add_argument("--strength", type=float, default=1.0, metavar="S",
                        help="0-1: how much style (default 1)")
    parser.add_argument("--preserve-color", action="store_true",
                        help="keep the original colours, take light and texture from the style")
    parser.add_argument("--max-size", type=int, metavar="PX",
                        help="work at most at this longer side, then restore full size "
                             "(built-in and CycleGAN; default: full size)")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo outputs that already exist (default: skip them, so an "
                             "interrupted batch resumes)")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="write a JSON report (every failure with its reason)")
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


def build_options(args: argparse.Namespace):
    """StyleOptions from the arguments, or BadArguments with the reason."""
    from artstudio.generators.style import StyleOptions

    common = dict(strength=args.strength, preserve_color=args.preserve_color,
                  max_size=args.max_size, device=args.device, tile=args.tile)
    try:
        if args.style_image:
            pairs = [parse_style_image(v) for v in args.style_image]
            for path, _w in pairs:
                if not Path(path).is_file():
                    raise BadArguments(f"style image not found: {path}")
            return StyleOptions.from_paintings([p for p, _ in pairs],
                                               [w for _, w in pairs], **common)
        if args.cyclegan:
            if not args.cyclegan.is_file():
                raise BadArguments(f"CycleGAN model not found: {args.cyclegan}")
            return StyleOptions.cyclegan(args.cyclegan, **common)
        return StyleOptions.builtin(args.style if args.style is not None else "0", **common)
    except ValueError as exc:
        raise BadArguments(str(exc)) from None


def list_styles() -> str:
    from artstudio.generators.style import BUILTIN_STYLES

    return "\n".join(f"{i:2d}  {name}" for i, name in enumerate(BUILTIN_STYLES))


class TerminalProgress:
    """A one-line bar on stderr when it is a terminal; otherwise a plain line
    every few seconds (logs stay readable)."""

    def __init__(self, stream=None, width: int = 28):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = 0.0
        self.drawn = False
        self.shown_final = False

    def __call__(self, step: int, total: int, message: str = "", preview=None) -> None:
        now = time.monotonic()
        final = total > 0 and step >= total
        if final and self.shown_final:
            return
        if not final and now - self.last < (0.1 if self.tty else 5.0):
            return
        self.shown_final = final
        self.last = now
        filled = int(self.width * step / total) if total else 0
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {message}"
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(80))
            self.drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _error(message: str) -> int:
    print(f"artstudio style: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    if args.list_styles:
        print(list_styles())
        return 0
    if args.input is None or args.output is None:
        return _error("give INPUT and OUTPUT (or --list-styles)")
    if not 1 <= args.quality <= 100:
        return _error("--quality must be between 1 and 100")
    from artstudio.batch import BatchSettings, plan_batch, run_batch
    from artstudio.batch.naming import format_of
    from artstudio.engine import CancelToken, UserFacingError
    from artstudio.generators.style import style_processor

    try:
        options = build_options(args)
    except BadArguments as exc:
        return _error(str(exc))
    fmt = args.format
    if fmt is None and args.input.is_file() and args.output.suffix:
        fmt = format_of(args.output)
        if fmt not in ("png", "jpg", "webp"):
            return _error(f"cannot write {args.output.suffix}; use .png, .jpg or .webp")
    try:
        plan = plan_batch(args.input, args.output, recursive=args.recursive, fmt=fmt or "png")
    except UserFacingError as exc:
        return _error(str(exc))

    cancel = CancelToken()
    try:
        process = style_processor(options, cancel)
    except UserFacingError as exc:
        return _error(str(exc))
    print(f"{options.describe()}: {len(plan.items)} image(s) to {args.output}", file=sys.stderr)

    restore = _cancel_on_ctrl_c(cancel)
    bar = TerminalProgress()
    try:
        report = run_batch(plan.items, process,
                           BatchSettings(quality=args.quality, overwrite=args.overwrite),
                           bar, cancel, plan.skipped)
    finally:
        bar.close()
        restore()
    print(report.summary(), file=sys.stderr)
    if args.report:
        report.write_json(args.report)
    if report.already_done and not report.written and not args.overwrite:
        print("(existing outputs were kept; use --overwrite to redo them)", file=sys.stderr)
    return report.exit_code


def _cancel_on_ctrl_c(cancel):
    """First Ctrl-C: finish the image in hand, then stop. Second: stop now."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)

    def handler(_sig, _frame):
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()
        print("\ncancelling after the current image (Ctrl-C again to stop now)",
              file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    return lambda: signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command without the main `artstudio` launcher (tests, scripts)."""
    parser = argparse.ArgumentParser(prog="artstudio style",
                                     description="Style transfer on an image or a folder.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
