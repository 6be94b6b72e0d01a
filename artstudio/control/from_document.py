"""The guide layers of a document as a generation's controls, regions and
references, and the picture a generation starts from without them.

A guide counts while its layer is visible: hiding a guide layer switches it
off and keeps its settings. What the generation frame shows of each one is
used, except references, which are whole layers ("make it look like this").

The picture sent as the init image leaves out what is not paint, as Krita AI
Diffusion does: regions (coverage, not colour), references, and control
layers, except line art and tile ones, whose lines or detail the artist
usually wants in the picture (hide them to leave them out too).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np

from artstudio.control.regions import RegionSpec
from artstudio.control.spec import ControlSpec, ReferenceSpec
from artstudio.document.compose import compose
from artstudio.document.geometry import Rect
from artstudio.document.guides import CONTROL, REFERENCE, REGION
from artstudio.document.layers import BlendMode, Layer, relayer
from artstudio.engine.errors import UserFacingError

# Control kinds whose layer stays in the picture: the lines / detail are paint.
PICTURE_KINDS = ("lineart", "tile")


@dataclass(frozen=True)
class DocumentGuides:
    controls: tuple[ControlSpec, ...] = ()
    regions: tuple[RegionSpec, ...] = ()
    references: tuple[ReferenceSpec, ...] = ()
    layer_names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by role

    def __bool__(self) -> bool:
        return bool(self.controls or self.regions or self.references)


def _guided(doc, role: str) -> list[Layer]:
    return [layer for layer in doc.layers
            if layer.visible and layer.guide is not None and layer.guide["role"] == role]


def _alone(layer: Layer, rect: Rect) -> np.ndarray:
    """The layer's own pixels inside `rect` (transparent where it does not
    reach), whatever its opacity and blend mode in the picture."""
    return compose([relayer(layer, opacity=1.0, blend=BlendMode.NORMAL, visible=True)], rect)


def _on_white(rgba: np.ndarray) -> np.ndarray:
    from artstudio.control.preprocessors import as_control_image

    return as_control_image(rgba)


def _control(layer: Layer, rect: Rect) -> ControlSpec:
    from artstudio.control.kinds import KINDS

    guide = layer.guide
    if guide["kind"] not in KINDS:
        raise UserFacingError(f"The control layer “{layer.name}” is of the kind "
                              f"{guide['kind']!r}, which this version does not know; choose "
                              f"one of {', '.join(KINDS)}.")
    return ControlSpec(kind=guide["kind"], image=_on_white(_alone(layer, rect)),
                       strength=guide["strength"], start=guide["start"], end=guide["end"],
                       preprocess=guide["preprocess"], preprocessor=guide["preprocessor"])


def _region(layer: Layer, rect: Rect) -> RegionSpec:
    prompt = layer.guide["prompt"].strip()
    if not prompt:
        raise UserFacingError(f"The region layer “{layer.name}” has no prompt: say what goes "
                              "there, or hide the layer.")
    mask = np.ascontiguousarray(_alone(layer, rect)[:, :, 3])
    if not mask.any():
        raise UserFacingError(f"The region layer “{layer.name}” ({prompt!r}) has nothing "
                              "painted inside the generation frame: paint where it goes, or "
                              "hide the layer.")
    return RegionSpec(mask=mask, prompt=prompt)


def _reference(layer: Layer) -> ReferenceSpec:
    if not layer.pixels[:, :, 3].any():
        raise UserFacingError(f"The reference layer “{layer.name}” is empty: put the picture "
                              "to follow on it, or hide the layer.")
    return ReferenceSpec(image=_on_white(layer.pixels), weight=layer.guide["weight"])


def guides_of(doc, rect: Rect) -> DocumentGuides:
    """The visible guide layers of `doc` for a picture covering `rect` (the
    generation frame, or the canvas when outpainting), bottom layer first.
    UserFacingError names a guide layer that cannot be used."""
    controls, regions, references = (_guided(doc, role) for role in (CONTROL, REGION, REFERENCE))
    return DocumentGuides(
        controls=tuple(_control(layer, rect) for layer in controls),
        regions=tuple(_region(layer, rect) for layer in regions),
        references=tuple(_reference(layer) for layer in references),
        layer_names={role: tuple(layer.name for layer in layers) for role, layers in
                     ((CONTROL, controls), (REGION, regions), (REFERENCE, references))
                     if layers})


def in_picture(layer: Layer) -> bool:
    """Does the layer belong to the picture a generation starts from?"""
    guide = layer.guide
    return guide is None or (guide["role"] == CONTROL and guide["kind"] in PICTURE_KINDS)


def picture(doc, rect: Rect) -> np.ndarray:
    """The visible layers inside `rect` as straight RGBA, guide layers that
    are not paint left out (`in_picture`)."""
    rect = rect.intersect(doc.rect)
    if all(in_picture(layer) or not layer.visible for layer in doc.layers):
        return doc.composite(rect)  # the cached composite
    return compose([layer for layer in doc.layers if in_picture(layer)], rect)


# ---- what the model's family can use ----------------------------------------------
def references_supported(family: str) -> bool | None:
    """Can models of `family` take reference images? None while reference
    images are not built (no `artstudio.control.references.supports`)."""
    try:
        module = importlib.import_module("artstudio.control.references")
    except ImportError:
        return None
    supports = getattr(module, "supports", None)
    return None if supports is None else bool(supports(family))


def _cannot(family: str, label: str) -> dict[str, str]:
    """Why models of `family` cannot use each guide role, by role."""
    from artstudio.control.apply import CONTROL_FAMILIES
    from artstudio.control.regions import REGION_FAMILIES

    lines = {}
    if family not in CONTROL_FAMILIES:
        lines[CONTROL] = f"{label} cannot use control layers yet: they are left out."
    if family not in REGION_FAMILIES:
        lines[REGION] = f"{label} cannot use regions yet: their prompts are left out."
    can = references_supported(family)
    if can is None:
        lines[REFERENCE] = ("Reference layers are not used yet (reference images are not "
                            "built): they are left out.")
    elif not can:
        lines[REFERENCE] = f"{label} cannot use reference layers yet: they are left out."
    return lines


def unsupported(family: str, label: str, roles) -> list[str]:
    """One line per guide role in `roles` that models of `family` (shown as
    `label`) cannot use, saying so instead of ignoring the layers."""
    cannot = _cannot(family, label)
    return [cannot[role] for role in (CONTROL, REGION, REFERENCE)
            if role in roles and role in cannot]


def roles_in(doc) -> set[str]:
    """The roles of the document's visible guide layers."""
    return {layer.guide["role"] for layer in doc.layers
            if layer.visible and layer.guide is not None}


def for_family(guides: DocumentGuides, family: str, label: str
               ) -> tuple[DocumentGuides, list[str]]:
    """`guides` without what models of `family` cannot use, and a line for
    each role left out."""
    cannot = _cannot(family, label)
    kept = DocumentGuides(
        controls=() if CONTROL in cannot else guides.controls,
        regions=() if REGION in cannot else guides.regions,
        references=() if REFERENCE in cannot else guides.references,
        layer_names={role: names for role, names in guides.layer_names.items()
                     if role not in cannot})
    return kept, unsupported(family, label, guides.layer_names)


def control_of(layer: Layer, rect: Rect) -> ControlSpec:
    """Layer `layer`'s control for a picture covering `rect`, its image a copy:
    taken on the thread that owns the document, preprocessed anywhere."""
    if layer.guide is None or layer.guide["role"] != CONTROL:
        raise UserFacingError(f"“{layer.name}” is not a control layer.")
    return _control(layer, rect)


def control_image(control: ControlSpec) -> np.ndarray:
    """The control image `control` gives (preprocessed unless it already is
    one): RGB, the size of its image. A network preprocessor takes seconds."""
    from artstudio.control.preprocessors import preprocess

    if not control.preprocess:
        return control.image
    return preprocess(control.kind, control.image, control.preprocessor)


def add_control_image(doc, uid: int, rect: Rect, rgb: np.ndarray) -> Layer:
    """Put control image `rgb` (made for `rect` from the layer `uid`) on a new
    layer above that layer, as Krita AI Diffusion does: the new layer becomes
    the control (same kind and settings, not preprocessed again, so what it
    shows is what guides) and the source layer is hidden, which switches its
    guide off. One undo step."""
    index = doc.index_of(uid)
    layer = doc.layer(index)
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, np.uint8)], axis=2)
    with doc.edit("Show control image"):
        shown = doc.add_layer(rgba, name=f"[Control] {layer.name}", index=index + 1,
                              x=rect.x, y=rect.y)
        doc.set_layer_guide(doc.index_of(shown), {**layer.guide, "preprocess": False})
        doc.set_layer_visible(index, False)
    return shown


def show_control_image(doc, index: int, rect: Rect) -> Layer:
    """`add_control_image` of layer `index`'s control image for `rect`, made
    here; UserFacingError when it cannot be made."""
    layer = doc.layer(index)
    return add_control_image(doc, layer.uid, rect, control_image(control_of(layer, rect)))
