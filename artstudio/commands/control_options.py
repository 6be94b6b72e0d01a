"""The control options of `artstudio generate`:

    --control KIND:IMAGE[:MODEL][:STRENGTH]   (repeatable)
    --control-preprocess / --no-control-preprocess
    --region MASK:PROMPT                      (repeatable)

turned into GenerationParams.controls and .regions, every refusal (an unknown
kind, a missing image, a ControlNet of another family, none in the library,
an empty mask) a ValueError with one line, before any model loads."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

_DRIVE = re.compile(r"^[A-Za-z]$")  # "C" of a Windows path split at its colon


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from artstudio.control.kinds import KINDS

    parser.add_argument(
        "--control", action="append", default=[], metavar="KIND:IMAGE[:MODEL][:STRENGTH]",
        help=f"guide the picture with IMAGE (repeatable; several stack). KIND: "
             f"{', '.join(KINDS)}, or a preprocessor of one (softedge_hed, lineart_model, "
             "lineart_coarse, lineart_anime: a network from models/annotators); MODEL: a "
             "ControlNet file or folder (default: one for KIND "
             "and the model's family from the ControlNet folders); STRENGTH 0-2 (default 1)")
    parser.add_argument(
        "--control-preprocess", action=argparse.BooleanOptionalAction, default=True,
        help="make each control image from IMAGE with KIND's preprocessor (default); "
             "--no-control-preprocess takes IMAGE as the control image as it is")
    parser.add_argument(
        "--region", action="append", default=[], metavar="MASK:PROMPT",
        help="paint PROMPT where MASK is white (repeatable; SD 1.x, 2 and XL); the --prompt "
             "everywhere else")


def _paths_split(value: str) -> list[str]:
    """`value` split at its colons, except those of Windows drives (C:\\art)."""
    parts: list[str] = []
    for piece in value.split(":"):
        if parts and _DRIVE.match(parts[-1]) and piece.startswith(("\\", "/")):
            parts[-1] += ":" + piece
        else:
            parts.append(piece)
    return parts


def split_value(value: str) -> tuple[str, str, str, float]:
    """KIND:IMAGE[:MODEL][:STRENGTH] -> (kind, image, model, strength)."""
    parts = _paths_split(value)
    strength = 1.0
    if len(parts) >= 3:
        try:
            strength = float(parts[-1])
            parts.pop()
        except ValueError:
            pass
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(f"--control {value}: give KIND:IMAGE, KIND:IMAGE:MODEL or "
                         "KIND:IMAGE:MODEL:STRENGTH")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else "", strength


def _model_text_width(model: Path) -> int:
    """The model's cross-attention width where a diffusers folder says it
    (0 otherwise: its family decides then)."""
    import json

    try:
        config = json.loads((Path(model) / "unet" / "config.json").read_text(encoding="utf-8"))
        return int(config.get("cross_attention_dim") or 0)
    except (OSError, ValueError, TypeError):
        return 0


def controls(args: argparse.Namespace, info, settings) -> tuple:
    """The ControlSpecs of --control, each image read and each ControlNet
    chosen and matched to the model `info` (a ModelInfo)."""
    if not args.control:
        return ()
    import dataclasses
    import functools

    from artstudio.control import apply, controlnet_files, preprocessors
    from artstudio.control.kinds import kind
    from artstudio.control.spec import ControlSpec
    from artstudio.document.io_images import load_image
    from artstudio.engine.errors import UserFacingError

    @functools.cache
    def library() -> list:
        return controlnet_files.find_controlnets(
            controlnet_files.controlnet_roots(settings.model_folders))

    cross = _model_text_width(info.path) if info.format == "diffusers" else 0
    made = []
    for value in args.control:
        kind_name, image, model, strength = split_value(value)
        try:
            kind_name, preprocessor = preprocessors.resolve(kind_name)
            chosen_kind = kind(kind_name)
        except UserFacingError as exc:
            raise ValueError(f"--control {value}: {exc}") from None
        missing = args.control_preprocess and preprocessors.unavailable_reason(preprocessor)
        if missing:
            raise ValueError(f"--control {value}: {missing}")
        if not Path(image).exists():
            raise ValueError(f"--control {value}: {image} does not exist")
        pixels, _notes = load_image(image, settings.max_image_megapixels)
        if model and not Path(model).exists():  # a name in the ControlNet folders
            model = str(controlnet_files.resolve_controlnet(model, library()).path)
        spec = ControlSpec(chosen_kind.name, pixels, model, strength,
                           preprocess=args.control_preprocess, preprocessor=preprocessor)
        chosen = apply.controlnet_for(spec, info.family, cross, None if model else library())
        made.append(dataclasses.replace(spec, model=str(chosen.path)))
    return tuple(made)


def regions(args: argparse.Namespace, info, settings) -> tuple:
    """The RegionSpecs of --region MASK:PROMPT, each mask read and checked."""
    if not args.region:
        return ()
    from artstudio.control.regions import REGION_FAMILIES, RegionSpec, mask_array
    from artstudio.document.io_images import load_image

    if info.family not in REGION_FAMILIES:
        raise ValueError("--region works with Stable Diffusion 1.x, 2 and XL models so far; "
                         f"{info.path.name} would ignore it")
    made = []
    for value in args.region:
        parts = _paths_split(value)
        mask_path, prompt = parts[0], ":".join(parts[1:]).strip()
        if len(parts) < 2 or not mask_path or not prompt:
            raise ValueError(f"--region {value}: give MASK:PROMPT")
        if not Path(mask_path).exists():
            raise ValueError(f"--region {value}: {mask_path} does not exist")
        pixels, _notes = load_image(mask_path, settings.max_image_megapixels)
        mask = mask_array(pixels)
        if not (mask > 0.01).any():
            raise ValueError(f"--region {value}: the mask is empty (paint the region white)")
        made.append(RegionSpec(mask, prompt))
    return tuple(made)
