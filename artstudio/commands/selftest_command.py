"""`artstudio self-test`: the same checks as `--self-test`."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Prints one line per capability; exit status 1 if any fails."


def run(args: argparse.Namespace) -> int:
    from artstudio.selftest.runner import print_self_test

    return print_self_test()
