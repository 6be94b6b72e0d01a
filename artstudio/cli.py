"""The command line: `artstudio [FILE ...]` opens the app; `artstudio COMMAND`
works without a window (like `krita --export`), for scripts and batches.

Only the standard library is imported up front so `--help` answers at once;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from artstudio import APP_NAME, __version__

# name -> (module in artstudio.commands, one-line help). A module exposes
# `add_arguments(parser)` and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {}


def register(name: str, module: str, help_text: str) -> None:
    COMMANDS[name] = (module, help_text)


def _commands_epilog() -> str:
    if not COMMANDS:
        return ""
    width = max(len(n) for n in COMMANDS)
    lines = [f"  {name:<{width}}  {help_text}" for name, (_, help_text) in COMMANDS.items()]
    return "commands (run without a window; `artstudio COMMAND --help` for each):\n" + \
        "\n".join(lines)


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="artstudio",
        description=f"{APP_NAME} {__version__}: painting with local generative models.",
        usage="artstudio [options] [FILE ...]\n       artstudio COMMAND [options]",
        epilog=_commands_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="images or .ora documents to open in the app")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check every capability that needs no downloaded model, headless, "
                             "one line each; exit status 1 if any fails")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="detail of the log file (default: INFO)")
    return parser


def _command_parser(name: str):
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(f"artstudio.commands.{module_name}")
    parser = argparse.ArgumentParser(prog=f"artstudio {name}", description=help_text)
    module.add_arguments(parser)
    return parser, module


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    import logging

    from artstudio.logs import setup_logging

    if argv and argv[0] in COMMANDS:
        parser, module = _command_parser(argv[0])
        args = parser.parse_args(argv[1:])
        # Commands print their own one-line messages; tracebacks go to the log file.
        _log_file, note = setup_logging()
        if note:
            print(f"artstudio: {note}", file=sys.stderr)
        try:
            return int(module.run(args) or 0)
        except KeyboardInterrupt:
            print("artstudio: interrupted", file=sys.stderr)
            return 130

    args = _gui_parser().parse_args(argv)
    if args.self_test:
        from artstudio.selftest.runner import print_self_test

        setup_logging(getattr(logging, args.log_level), to_stderr=False)
        return print_self_test()
    from artstudio.app import run_gui

    return run_gui(args.files, log_level=getattr(logging, args.log_level))


register("generate", "generate", "text-to-image, image-to-image, inpainting and outpainting")
register("loras", "loras", "list the LoRAs found, their family and trigger words")
register("control-preview", "control_preview",
         "the control image a generate --control would use (Canny, scribble...)")
register("interpolate", "interpolate",
         "a journey between seeds, prompts or two pictures, as frames, GIF, WebP or MP4")
register("style", "style", "style transfer on an image or a folder (built-in, painting, CycleGAN)")
register("upscale", "upscale", "super-resolution on an image or a folder (built-in, any, SD x4)")
register("download", "download", "fetch a diffusers model from Hugging Face (only when asked)")
register("describe", "describe", "a prompt for a picture, from a local captioning model")
register("export", "export", "convert an image or .ora to .ora, PNG, JPEG or WebP")
register("self-test", "selftest_command", "the same as --self-test")
