"""The kinds of control an artist can give, what makes each one's control
image, and the words ControlNet file names use for them."""

from __future__ import annotations

from dataclasses import dataclass

from artstudio.engine.errors import UserFacingError


@dataclass(frozen=True)
class ControlKind:
    name: str  # as the command line and metadata spell it
    label: str
    preprocessor: str  # preprocessors.PREPROCESSORS key
    # Words in ControlNet file names that mean this kind, most specific first.
    name_words: tuple[str, ...]


KINDS: dict[str, ControlKind] = {k.name: k for k in (
    ControlKind("scribble", "Scribble / sketch", "scribble", ("scribble", "sketch")),
    ControlKind("lineart", "Line art", "lineart", ("lineart", "line_art", "line-art")),
    ControlKind("softedge", "Soft edge", "softedge", ("softedge", "soft_edge", "hed", "pidi")),
    ControlKind("canny", "Canny edges", "canny", ("canny",)),
    ControlKind("depth", "Depth", "depth", ("depth", "midas", "zoe", "leres")),
    ControlKind("normal", "Normal map", "normal", ("normal",)),
    ControlKind("pose", "Pose", "openpose", ("openpose", "dwpose", "pose")),
    ControlKind("seg", "Segmentation", "seg", ("seg", "ade20k")),
    ControlKind("tile", "Tile (detail)", "tile", ("tile",)),
    ControlKind("brightness", "Brightness / QR", "brightness",
                ("brightness", "qrcode", "qr_", "qr-", "illumination", "monster")),
)}


def kind(name: str) -> ControlKind:
    try:
        return KINDS[name.lower()]
    except KeyError:
        raise UserFacingError(f"Unknown control kind {name!r}; the kinds are "
                              f"{', '.join(KINDS)}.") from None


def kind_from_file_name(name: str) -> str:
    """The kind a ControlNet's file name says ("control_v11p_sd15_canny" ->
    "canny"), "" when it says none. Words are tried longest first, so
    "lineart" wins over a shorter word inside it."""
    lowered = name.lower()
    words = sorted(((w, k.name) for k in KINDS.values() for w in k.name_words),
                   key=lambda pair: -len(pair[0]))
    for word, found in words:
        if word in lowered:
            return found
    return ""
