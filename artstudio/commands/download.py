"""`artstudio download REPO_ID`: fetch a diffusers model from Hugging Face into
the local cache, the one time Artstudio goes online, and only when asked.

    artstudio download stabilityai/sdxl-turbo

Interrupted downloads resume on the next run. Exit status 0, or 1 with a
one-line reason.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repo_id", help="a Hugging Face model repo in diffusers format (org/name)")


def run(args: argparse.Namespace) -> int:
    from artstudio.commands.terminal import TerminalProgress
    from artstudio.engine.cancel import CancelToken
    from artstudio.engine.errors import UserFacingError
    from artstudio.model_files.hub import download_model

    progress = TerminalProgress()
    try:
        folder = download_model(args.repo_id, progress, CancelToken())
    except UserFacingError as exc:
        progress.close()
        print(f"artstudio download: {exc}", file=sys.stderr)
        return 1
    progress.close()
    print(folder)
    return 0
