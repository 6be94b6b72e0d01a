"""Assembling a split model: a diffusion-model file plus the text encoders and
VAE it takes, as ComfyUI keeps them in sibling folders:

    models/diffusion_models/ (or models/unet/)   flux1-dev.safetensors, *.gguf
    models/text_encoders/    (or models/clip/)   clip_l, t5xxl_fp16, qwen_3_4b ...
    models/vae/                                  ae.safetensors

Every candidate is recognised by its tensors (components.recognise_part) and
must fit the diffusion model's slot by kind and by width, so a part of another
model is never offered. Where several fit, the first is chosen (16/32-bit files
before fp8, then by name) and the others are listed as alternatives; where none
fits, `missing` says what and where it was looked for. Files the artist names
are checked the same way and refused with a message when they do not fit.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.engine.errors import UserFacingError
from artstudio.engine.printable import printable
from artstudio.model_files import components
from artstudio.model_files.components import VAE, Part, Slot
from artstudio.model_files.safe_load import SAFETENSORS_SUFFIXES
from artstudio.model_files.tensor_table import (
    FP8_TYPES,
    GGUF_SUFFIXES,
    main_type,
    read_tensor_table,
    shapes_of,
)

PART_SUFFIXES = SAFETENSORS_SUFFIXES + GGUF_SUFFIXES
DIFFUSION_FOLDERS = ("diffusion_models", "unet")
ENCODER_FOLDERS = ("text_encoders", "clip")
VAE_FOLDERS = ("vae",)
_SEARCH_DEPTH = 2  # models/text_encoders/FLUX/t5xxl_fp16.safetensors


class PartMismatch(UserFacingError):
    """A named part does not fit the diffusion model (another kind or another model's width)."""


@dataclass(frozen=True)
class FoundPart:
    path: Path
    part: Part
    stored: str  # the type most bytes are stored in: "BF16", "F8_E4M3", "Q4_K"

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class ComponentSet:
    """A diffusion model and the parts chosen for it: what the loader consumes."""

    family: str  # "flux", "sd3", "z-image", "flux2"
    kind: str  # "flux-dev", "sd3.5-large", ...
    variants: tuple[str, ...]  # those the tensors fit, when they cannot tell (dev / Kontext)
    transformer: Path
    text_encoders: tuple[tuple[str, Path], ...]  # (slot kind, file) in the pipeline's order
    vae: Path | None  # None when the diffusion-model file holds its VAE, or none was found
    label: str  # "FLUX.1 dev: flux1-dev + t5xxl_fp16 + clip_l + ae"
    missing: tuple[str, ...] = ()  # one sentence per required part not found
    optional_missing: tuple[str, ...] = ()  # parts the family can do without (SD3's T5)
    alternatives: tuple[tuple[str, tuple[Path, ...]], ...] = ()  # slot kind -> other fits
    looked_in: tuple[Path, ...] = ()
    inside: tuple[str, ...] = ()  # slot kinds the transformer file itself holds
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return not self.missing

    def text_encoder(self, kind: str) -> Path | None:
        return dict(self.text_encoders).get(kind)

    def alternatives_for(self, kind: str) -> tuple[Path, ...]:
        return dict(self.alternatives).get(kind, ())

    def problem(self) -> str:
        """The one-line refusal for an incomplete set ("" when complete)."""
        return " ".join(self.missing)


# ---- reading parts ----------------------------------------------------------------

_CACHE: dict[tuple[str, int, int], FoundPart | None] = {}


def read_part(path: str | os.PathLike) -> FoundPart | None:
    """The part a file is, or None when it is none (or unreadable). Cached by
    path, size and modification time: a scan reads each header once."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        try:
            table = read_tensor_table(path)
        except UserFacingError:
            _CACHE[key] = None
        else:
            part = components.recognise_part(shapes_of(table))
            _CACHE[key] = FoundPart(path, part, main_type(table)) if part else None
    return _CACHE[key]


def _part_files(folder: Path, depth: int = 0) -> list[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in PART_SUFFIXES:
            found.append(entry)
        elif entry.is_dir() and depth < _SEARCH_DEPTH:
            found += _part_files(entry, depth + 1)
    return found


def search_folders(transformer: Path) -> tuple[Path, ...]:
    """Where a diffusion model's parts are looked for: the ComfyUI models folder's
    text_encoders, clip and vae (found by walking up from models/diffusion_models
    or models/unet, subfolders allowed), and the transformer's own folder."""
    transformer = Path(transformer)
    models = None
    for parent in list(transformer.parents)[:_SEARCH_DEPTH + 1]:
        if parent.name.lower() in (*DIFFUSION_FOLDERS, "checkpoints"):
            models = parent.parent
            break
    places = [transformer.parent]
    if models is not None:
        places += [models / name for name in ENCODER_FOLDERS + VAE_FOLDERS]
    return tuple(dict.fromkeys(places))


def _rank(found: FoundPart) -> tuple:
    # 16/32-bit files first: fp8 and GGUF lose some quality, chosen only when no other is
    # there (the memory check suggests them when the full-size ones do not fit).
    reduced = found.stored in FP8_TYPES or found.path.suffix.lower() in GGUF_SUFFIXES
    return (reduced, found.name.lower())


def _slot_words(part: Part) -> str:
    needed = [s.describe() for s in part.missing_slots]
    return ", ".join(needed[:-1]) + (" and " if len(needed) > 1 else "") + needed[-1] \
        if needed else "nothing more"


def _check_named(found: FoundPart | None, path: Path, model: Part, slots: Sequence[Slot],
                 is_vae: bool) -> Slot:
    """The slot a file the artist named fills, or PartMismatch saying why it fits none."""
    name = printable(path.name)
    what = "VAE" if is_vae else "text encoder"
    if found is None:
        raise PartMismatch(f"{name} is not a {what} Artstudio recognises.")
    part = found.part
    if (part.role == components.VAE) != is_vae or part.role == components.DIFFUSION:
        raise PartMismatch(f"{name} is {_article(part.label)}, not a {what}; {model.label} "
                           f"takes {_slot_words(model)}.")
    wanted = [s for s in slots if (s.kind == VAE) == is_vae]
    for slot in wanted:
        if part.fits(slot):
            return slot
    same_kind = [s for s in wanted if is_vae or s.kind == part.kind]
    if same_kind:
        slot = same_kind[0]
        if is_vae:
            raise PartMismatch(f"{name} is {_article(part.label)}, but {model.label} needs "
                               f"{_article(slot.describe())}: it belongs to another model.")
        raise PartMismatch(f"{name} is {_article(part.label)} {part.width} wide, but "
                           f"{model.label} needs one {slot.width} wide: it belongs to "
                           "another model.")
    raise PartMismatch(f"{name} is {_article(part.label)}; {model.label} takes "
                       f"{_slot_words(model)}.")


def assemble(transformer: str | os.PathLike, text_encoders: Iterable[str | os.PathLike] = (),
             vae: str | os.PathLike | None = None,
             folders: Sequence[Path] | None = None) -> ComponentSet:
    """The split set for `transformer`: named parts where given (refused with
    PartMismatch when they do not fit), else found in `folders` (default:
    search_folders). Raises PartMismatch when `transformer` is no diffusion model."""
    transformer = Path(transformer)
    model_found = read_part(transformer)
    if model_found is None or model_found.part.role != components.DIFFUSION:
        what = model_found.part.label if model_found else "no diffusion model Artstudio knows"
        raise PartMismatch(f"{printable(transformer.name)} is {_article(what)}, not the "
                           "diffusion model of a split set.")
    model = model_found.part
    slots = list(model.missing_slots)
    chosen: dict[str, Path] = {}
    named = [(Path(p), False) for p in text_encoders] + ([(Path(vae), True)] if vae else [])
    for path, is_vae in named:
        slot = _check_named(read_part(path), path, model, slots, is_vae)
        if slot.kind in chosen:
            raise PartMismatch(f"Two files given for the {slot.describe()}: "
                               f"{chosen[slot.kind].name} and {printable(path.name)}.")
        chosen[slot.kind] = path

    folders = tuple(folders) if folders is not None else search_folders(transformer)
    candidates = [found for folder in folders if folder.is_dir()
                  for f in _part_files(folder) if f != transformer
                  and (found := read_part(f)) is not None
                  and found.part.role != components.DIFFUSION]
    candidates = sorted({c.path.resolve(): c for c in candidates}.values(), key=_rank)

    missing, optional_missing, alternatives = [], [], []
    looked = ", ".join(printable(str(f)) for f in folders)
    for slot in slots:
        fits = [c.path for c in candidates if c.part.fits(slot)]
        if slot.kind in chosen:
            others = tuple(p for p in fits if p.resolve() != chosen[slot.kind].resolve())
        elif fits:
            chosen[slot.kind], others = fits[0], tuple(fits[1:])
        else:
            width = f" {slot.width} wide" if slot.width and slot.kind != VAE else ""
            sentence = (f"No {slot.describe()}{width} for {model.label} was found "
                        f"(looked in {looked}).")
            (optional_missing if slot.optional else missing).append(sentence)
            continue
        if others:
            alternatives.append((slot.kind, others))

    encoders = tuple((s.kind, chosen[s.kind]) for s in slots
                     if s.kind != VAE and s.kind in chosen)
    vae_path = chosen.get(VAE)
    label_parts = [transformer.stem] + [p.stem for _k, p in _label_order(encoders)]
    if vae_path is not None:
        label_parts.append(vae_path.stem)
    return ComponentSet(
        family=model.family, kind=model.kind, variants=model.variants, transformer=transformer,
        text_encoders=encoders, vae=vae_path,
        label=f"{model.label}: " + " + ".join(label_parts),
        missing=tuple(missing), optional_missing=tuple(optional_missing),
        alternatives=tuple(alternatives), looked_in=folders, inside=model.inside,
        notes=model.notes)


@dataclass(frozen=True)
class PartChoice:
    """One slot of a split set as the artist chooses it: the file in use first,
    then the other files that fit."""

    slot: str  # the slot kind: an encoder kind or "vae"
    label: str  # "T5-XXL", "VAE"
    options: tuple[Path, ...]


def part_choices(found: ComponentSet) -> list[PartChoice]:
    """Each separate part of `found` with what could take its place, in the
    order the label reads them (the big encoder first, the VAE last)."""
    slots = [*_label_order(found.text_encoders),
             *([(VAE, found.vae)] if found.vae is not None else [])]
    return [PartChoice(kind, "VAE" if kind == VAE else components.ENCODER_LABELS.get(kind, kind),
                       (path, *found.alternatives_for(kind)))
            for kind, path in slots]


def _label_order(encoders: tuple[tuple[str, Path], ...]) -> list[tuple[str, Path]]:
    """The artist reads the big encoder first ("flux1-dev + t5xxl_fp16 + clip_l + ae")."""
    return sorted(encoders, key=lambda item: item[0].startswith("clip"))


def _article(what: str) -> str:
    return what if what.startswith("no ") else ("an " if what[0] in "AEIOU" else "a ") + what
