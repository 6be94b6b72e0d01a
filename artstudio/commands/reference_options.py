"""The reference-image option of `artstudio generate`:

    --reference IMAGE[:WEIGHT][:MODEL]   (repeatable)

turned into GenerationParams.references, every refusal (a missing image, a
weight out of range, a family without reference images, an adapter of another
family, none in the library, its image encoder missing) a ValueError with one
line, before any model loads."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference", action="append", default=[], metavar="IMAGE[:WEIGHT][:MODEL]",
        help="make the picture look like IMAGE (repeatable, several stack): IP-Adapter for SD "
             "1.x and XL, FLUX.1 Redux for FLUX.1. WEIGHT 0-2 (default 1); MODEL: an adapter "
             ".safetensors file or its name (default: one for the model's family from "
             "models/ipadapter, models/ControlNet or models/style_models); its image encoder "
             "is found in models/clip_vision")


def split_value(value: str) -> tuple[str, float, str]:
    """IMAGE[:WEIGHT][:MODEL] (or IMAGE:MODEL:WEIGHT) -> (image, weight, model)."""
    from artstudio.commands.control_options import _paths_split

    parts = _paths_split(value)
    image, rest = parts[0], parts[1:]
    numbers = [float(part) for part in rest if _is_number(part)]
    names = [part for part in rest if not _is_number(part)]
    if not image or not all(rest) or len(numbers) > 1 or len(names) > 1:
        raise ValueError(f"--reference {value}: give IMAGE, IMAGE:WEIGHT or IMAGE:WEIGHT:MODEL")
    return image, numbers[0] if numbers else 1.0, names[0] if names else ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def references(args: argparse.Namespace, info, settings) -> tuple:
    """The ReferenceSpecs of --reference, each image read and each adapter and
    image encoder chosen and matched to the model `info` (a ModelInfo)."""
    if not args.reference:
        return ()
    import dataclasses
    import functools

    from artstudio.commands.control_options import _model_text_width
    from artstudio.control import image_encoders, ip_adapter_files, references
    from artstudio.control.spec import ReferenceSpec, check_references
    from artstudio.document.io_images import load_image
    from artstudio.engine.errors import UserFacingError

    reason = references.refusal(info.family)
    if reason:
        raise ValueError(f"--reference: {reason}")
    if args.region:
        raise ValueError("--reference and --region cannot be used together yet")

    @functools.cache
    def adapters() -> list:
        return ip_adapter_files.find_adapters(
            ip_adapter_files.adapter_roots(settings.model_folders))

    @functools.cache
    def encoders() -> list:
        return image_encoders.find_encoders(image_encoders.encoder_roots(settings.model_folders))

    cross = _model_text_width(info.path) if info.format == "diffusers" else 0
    made = []
    for value in args.reference:
        image, weight, model = split_value(value)
        if not Path(image).is_file():
            raise ValueError(f"--reference {value}: {image} does not exist")
        pixels, _notes = load_image(image, settings.max_image_megapixels)
        spec = ReferenceSpec(pixels, weight)
        try:
            check_references([spec])
            if model and not Path(model).exists():  # a name in the adapter folders
                model = str(ip_adapter_files.resolve_adapter(model, adapters()).path)
            adapter, encoder = references.choose(
                dataclasses.replace(spec, model=model), info.family, cross,
                None if model else adapters(), encoders())
        except UserFacingError as exc:
            raise ValueError(f"--reference {value}: {exc}") from None
        made.append(dataclasses.replace(spec, model=str(adapter.path), encoder=str(encoder.path)))
    return tuple(made)
