"""The part of `artstudio style` and `artstudio upscale` that is about files:
INPUT and OUTPUT (a file or a folder), --recursive, --format, --quality,
--png-level, --overwrite, --resume-anyway and --report, the settings check of a resumed
folder, the batch run with its progress bar, Ctrl-C, the summary and the exit
status. Each command only supplies its options and per-image function."""

from __future__ import annotations

import argparse
import dataclasses
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
    parser.add_argument("--png-level", default="3", metavar="0-9|fast",
                        choices=[*map(str, range(10)), "fast"],
                        help="PNG compression: zlib level 0-9 (default 3), or fast (the fpng "
                             "writer, pip install 'artstudio[fast]': much less CPU, files "
                             "about 10 %% larger); the pixels are the same")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--overwrite", action="store_true",
                       help="redo outputs that already exist (default: skip those made with "
                            "the same settings, so an interrupted batch resumes)")
    again.add_argument("--resume-anyway", action="store_true",
                       help="keep outputs made with other settings and do only the missing "
                            "ones (default: refuse to mix settings in one folder)")
    parser.add_argument("--ray", metavar="auto|ADDRESS",
                        help="run on a Ray cluster (auto: the one this machine belongs to, or "
                             "HOST:PORT of its head); INPUT and OUTPUT must be on storage "
                             "every node mounts at the same path")
    parser.add_argument("--report", type=Path, metavar="FILE",
                        help="write a JSON report: FILE sums up every run into OUTPUT so far "
                             "(with the failures still open), each run's own report is kept "
                             "beside it as FILE-DATE.json")


def _policy(args: argparse.Namespace):
    from artstudio.batch.resume import OtherSettings

    if args.overwrite:
        return OtherSettings.OVERWRITE
    return OtherSettings.KEEP if args.resume_anyway else OtherSettings.REFUSE


def run_folder_command(args: argparse.Namespace, name: str,
                       make_processor: Callable, describe: str,
                       cancel_note: str | None = None, options=None) -> int:
    """Plan INPUT -> OUTPUT, check a folder's earlier outputs against the
    settings (`options`, the feature's options dataclass), build the
    per-image function, run the batch. `cancel_note`: what Ctrl-C does to the
    image in hand, when the function stops mid-image. Exit: 0 all done, 1 a
    file failed, 2 bad arguments (or outputs of other settings), 130
    cancelled."""
    from artstudio.batch import BatchSettings, fast_png, plan_batch, run_batch
    from artstudio.batch.naming import format_of
    from artstudio.batch.pipeline import write_reports
    from artstudio.batch.recipe import recipe_of, recipe_text
    from artstudio.batch.resume import begin_run, check_resume
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
    png_level = args.png_level if args.png_level == fast_png.FAST else int(args.png_level)
    if png_level == fast_png.FAST and (fmt or "png") == "png":
        try:
            fast_png.require()
        except UserFacingError as exc:
            return error(str(exc))
    settings = BatchSettings(quality=args.quality, overwrite=args.overwrite,
                             png_level=png_level)
    check = None
    if options is not None:
        recipe = recipe_of(name, options, fmt or "png", args.quality, describe)
        settings = dataclasses.replace(settings, text=recipe_text(recipe))
        if plan.output_root is not None:  # a folder keeps the record; one file needs none
            check = check_resume(plan.output_root, plan.items, recipe)
            if check.conflict and not (args.overwrite or args.resume_anyway):
                return error(f"{check.message()} Use --overwrite to redo them, "
                             "--resume-anyway to keep them and do only the missing ones, "
                             "or another OUTPUT.")
    cancel = CancelToken()
    cluster = None
    try:
        if getattr(args, "ray", None):
            from artstudio.batch.ray_runner import Cluster, model_files

            # Before the record is written: a cluster that cannot do the
            # batch leaves the folder as it was.
            cluster = Cluster.join(args.ray, plan, model_files(options))
            note = cluster.CANCEL_NOTE
        else:
            process = make_processor(cancel)
            note = cancel_note or FINISH_CURRENT
        if check is not None:
            settings = begin_run(check, plan.items, _policy(args), settings)
    except UserFacingError as exc:
        if cluster is not None:
            cluster.leave()
        return error(str(exc))
    where = f" on the Ray cluster ({cluster.describe()})" if cluster else ""
    print(f"{describe}: {len(plan.items)} image(s) to {args.output}{where}", file=sys.stderr)

    restore = cancel_on_ctrl_c(cancel, note)
    bar = TerminalProgress()
    try:
        if cluster is not None:
            report = cluster.run(plan, make_processor, settings, bar, cancel)
        else:
            report = run_batch(plan.items, process, settings, bar, cancel, plan.skipped)
    except UserFacingError as exc:
        return error(str(exc))
    finally:
        bar.close()
        restore()
        if cluster is not None:
            cluster.leave()
    if args.report:
        write_reports(report, args.report)
    print(report.summary(), file=sys.stderr)
    if report.report_error:
        return report.exit_code or 1
    if report.already_done and not report.written and not args.overwrite:
        print("(existing outputs were kept; use --overwrite to redo them)", file=sys.stderr)
    return report.exit_code
