"""`artstudio loras`: the LoRAs found in the folders artists keep them in
(the app's models/Lora, A1111's and Forge's models/Lora and models/LyCORIS,
ComfyUI's models/loras), with their family and trigger words; with --model,
those made for another family are marked with the reason.

    artstudio loras
    artstudio loras --model sd15.safetensors --folder ~/my-loras

One LoRA a line: name, family, layout and parts, trigger words, file. A LoRA
another family's model cannot use starts with "-" and ends with why.
Exit status: 0 listed (even none), 2 a bad --model or --folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("--model", type=Path, metavar="PATH",
                        help="mark the LoRAs this model cannot use (another family)")
    parser.add_argument("--folder", action="append", default=[], type=Path, metavar="DIR",
                        help="look in this folder too (repeatable)")


def _family_of(model: Path) -> str:
    from artstudio.commands.generate import usable_model
    from artstudio.diffusion import families

    if not model.exists():
        raise ValueError(f"--model {model} does not exist")
    spec = families.family_of_kind(usable_model(model).kind)
    if spec is None:
        raise ValueError(f"{model.name} is not a model of a known family")
    return spec.name


def describe(info, family: str | None) -> str:
    """One LoRA's line: usable ones first-class, another family's marked and why."""
    reason = info.unusable_with(family) if family else None
    triggers = f"triggers: {', '.join(info.triggers)}" if info.triggers else "no trigger words"
    parts = "+".join(info.parts) or "?"
    line = (f"{info.name}  [{(info.family or 'any family').upper()}, {info.layout}, {parts}]  "
            f"{triggers}  {info.path}")
    return f"- {line}  (not usable: {reason})" if reason else f"  {line}"


def run(args: argparse.Namespace) -> int:
    from artstudio.diffusion import loras
    from artstudio.engine.errors import UserFacingError

    try:
        for folder in args.folder:
            if not folder.is_dir():
                raise ValueError(f"--folder {folder} is not a folder")
        family = _family_of(args.model) if args.model else None
    except (ValueError, UserFacingError, OSError) as exc:
        print(f"artstudio loras: {exc}", file=sys.stderr)
        return 2
    roots = loras.lora_roots(args.folder)
    found = loras.find_loras(roots)
    for info in found:
        print(describe(info, family))
    if not found:
        where = ", ".join(str(r) for r in roots) or "no LoRA folder exists here"
        print(f"artstudio loras: none found ({where})", file=sys.stderr)
    return 0
