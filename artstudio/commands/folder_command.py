"""The part of `artstudio style` and `artstudio upscale` that is about files:
INPUT and OUTPUT (a file or a folder), --recursive, --format, --quality,
--overwrite and --report, the batch run with its progress bar, Ctrl-C, the
summary and the exit status. Each command only supplies its per-image function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def add_folder_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", type=Path, help="an image file or a folder")
    parser.add_argument("output", nargs="?", type=Path,
                        help="an output folder (or a file name when INPUT is one file)")
    parser.add_argument("--recursive", "-r", action="store_true",
                        help="include subfolders (their structure is kept in OUTPUT)")
    parser.add_argument("--format", choices=["png", "jpg", "webp"],
                        help="output format (default: png, or OUTPUT's extension)")
    parser.add_argument("--quality", type=int, default=92, metavar="Q",
                        help="JPEG/WebP quality 1-100 (default 92)")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo outputs that already exist (default: skip them, so an "
                             "interrupted batch resumes)")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="write a JSON report (every failure with its reason)")


def run_folder_command(args: argparse.Namespace, name: str,
                       make_processor: Callable, describe: str,
                       cancel_note: str | None = None) -> int:
    """Plan INPUT -> OUTPUT, build the per-image function, run the batch.
    `cancel_note`: what Ctrl-C does to the image in hand, when the function
    stops mid-image. Exit: 0 all done, 1 a file failed, 2 bad arguments, 130
    cancelled."""
    from artstudio.batch import BatchSettings, plan_batch, run_batch
    from artstudio.batch.naming import format_of
    from artstudio.commands.terminal import FINISH_CURRENT, TerminalProgress, cancel_on_ctrl_c
    from artstudio.engine import CancelToken, UserFacingError

    def error(message: str) -> int:
        print(f"artstudio {name}: error: {message}", file=sys.stderr)
        return 2

    if args.input is None or args.output is None:
        return error("give INPUT and OUTPUT")
    if not 1 <= args.quality <= 100:
        return error("--quality must be between 1 and 100")
    fmt = args.format
    if fmt is None and args.input.is_file() and args.output.suffix:
        fmt = format_of(args.output)
        if fmt not in ("png", "jpg", "webp"):
            return error(f"cannot write {args.output.suffix}; use .png, .jpg or .webp")
    try:
        plan = plan_batch(args.input, args.output, recursive=args.recursive, fmt=fmt or "png")
    except UserFacingError as exc:
        return error(str(exc))
    cancel = CancelToken()
    try:
        process = make_processor(cancel)
    except UserFacingError as exc:
        return error(str(exc))
    print(f"{describe}: {len(plan.items)} image(s) to {args.output}", file=sys.stderr)

    restore = cancel_on_ctrl_c(cancel, cancel_note or FINISH_CURRENT)
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
