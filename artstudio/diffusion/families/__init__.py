"""The family registry: one FamilySpec per model family, nothing else knows
families by name.

Adding a family is one entry in FAMILIES plus the code that is truly new for
it (a module beside stable_diffusion.py with its recognisers and single-file
assembler) and its config folders in artstudio/data/diffusion_configs. No import
here loads torch or diffusers.
"""

from __future__ import annotations

from artstudio.diffusion.families.flux import FLUX
from artstudio.diffusion.families.spec import (
    ALL_MODES,
    EDIT,
    MODES,
    FamilySpec,
    FolderConfigs,
    LatentSpace,
    Recognised,
    Variant,
)
from artstudio.diffusion.families.stable_diffusion import SD1, SD2, SDXL

FAMILIES: tuple[FamilySpec, ...] = (SD1, SD2, SDXL, FLUX)

_BY_NAME = {f.name: f for f in FAMILIES}
_BY_KIND = {kind: f for f in FAMILIES for kind in f.kinds}
_VARIANTS = {v.name: (f, v) for f in FAMILIES for v in f.variants}


def family(name: str) -> FamilySpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}") from None


def family_of_kind(kind: str) -> FamilySpec | None:
    """The family an identified kind belongs to; None for upscalers and unknown files."""
    return _BY_KIND.get(kind)


def variant(name: str) -> tuple[FamilySpec, Variant]:
    try:
        return _VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown model variant {name!r}") from None


def variant_names() -> tuple[str, ...]:
    return tuple(_VARIANTS)


def ambiguous_kinds() -> tuple[str, ...]:
    """Kinds whose files cannot say which variant they are (SD2's 512 px
    noise prediction or 768 px v-prediction): the artist is asked once."""
    return tuple(k for k, f in _BY_KIND.items() if len(f.variants_of(k)) > 1)


def likely_variant(kind: str, prediction: str = "",
                   variant_name: str | None = None) -> tuple[FamilySpec, Variant] | None:
    """The variant a model of `kind` most likely is: the chosen one when it
    fits, else the one its prediction type names, else the smallest of its
    kind's; None for a kind no family knows."""
    spec = _BY_KIND.get(kind)
    if spec is None:
        return None
    if variant_name in _VARIANTS and _VARIANTS[variant_name][0] is spec:
        return _VARIANTS[variant_name]
    candidates = spec.variants_of(kind)
    known = [v for v in candidates if v.prediction == prediction] or candidates
    return spec, min(known, key=lambda v: v.size)


def default_size(kind: str, prediction: str = "", variant_name: str | None = None) -> int:
    """The side a model of `kind` was trained at (512 for a kind no family knows)."""
    found = likely_variant(kind, prediction, variant_name)
    return 512 if found is None else found[1].size


def defaults_for(kind: str, prediction: str = "",
                 variant_name: str | None = None) -> dict:
    """The GenerationParams fields (size, steps, guidance, sampler) a request
    for such a model starts from; empty for a kind no family knows."""
    found = likely_variant(kind, prediction, variant_name)
    return {} if found is None else found[0].defaults(found[1])


def recognisers():
    """Each distinct (checkpoint, folder) recogniser once, in registry order."""
    seen = []
    for f in FAMILIES:
        pair = (f.recognise_checkpoint, f.recognise_folder)
        if pair not in seen:
            seen.append(pair)
    return seen


__all__ = ["ALL_MODES", "EDIT", "FAMILIES", "MODES", "FamilySpec", "FolderConfigs",
           "LatentSpace", "Recognised", "Variant", "ambiguous_kinds", "default_size",
           "defaults_for", "family", "family_of_kind", "likely_variant", "recognisers",
           "variant", "variant_names"]
