"""Control images made from a layer: OpenCV preprocessors that need no
weights, and the network ones (depth, pose, normal, segmentation, line art
models) that need a model the artist has.

Every preprocessor takes an RGB or RGBA uint8 array (a transparent layer is
laid on white first, as the artist sees it) and returns an RGB uint8 array of
the same size. Edge-like outputs are white lines on black, as ControlNets
were trained on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artstudio.engine.errors import UserFacingError

CANNY_LOW, CANNY_HIGH = 100, 200  # A1111's defaults


def _on_white(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = np.rint(arr[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(arr[:, :, :3], dtype=np.uint8)


def _grey(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


def canny(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return _rgb(cv2.Canny(_grey(rgb), CANNY_LOW, CANNY_HIGH))


def soft_edge(rgb: np.ndarray) -> np.ndarray:
    """Soft edges (what HED and PiDiNet give) as a blurred gradient magnitude."""
    import cv2

    grey = cv2.GaussianBlur(_grey(rgb).astype(np.float32), (0, 0), 1.5)
    magnitude = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    magnitude = cv2.GaussianBlur(magnitude, (0, 0), 1.0)
    top = float(magnitude.max())
    if top < 1.0:  # a flat picture has no edges at all, not amplified noise
        return np.zeros_like(rgb)
    return _rgb(np.clip(magnitude * (255.0 / top), 0, 255).astype(np.uint8))


def _dark_lines(grey: np.ndarray) -> np.ndarray:
    """1 where a pixel is clearly darker than its surroundings (a drawn line)."""
    import cv2

    lines = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                  15, 8)
    return (lines > 0).astype(np.uint8)


def line_art(rgb: np.ndarray) -> np.ndarray:
    return _rgb(_dark_lines(_grey(rgb)) * 255)


def _is_line_drawing(grey: np.ndarray) -> bool:
    """A layer that already is lines: nearly every pixel paper or ink."""
    paper = grey >= 230
    ink = grey <= 60
    return float((paper | ink).mean()) > 0.97 and float(ink.mean()) < 0.4


def _skeleton(binary: np.ndarray) -> np.ndarray:
    """Morphological thinning (erode, open, keep the difference) to one-pixel lines."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    skeleton = np.zeros_like(binary)
    rest = binary.copy()
    while rest.any():
        eroded = cv2.erode(rest, kernel)
        skeleton |= rest & ~cv2.dilate(eroded, kernel)
        rest = eroded
    return skeleton


def scribble(rgb: np.ndarray) -> np.ndarray:
    """Scribble: a drawing that already is lines is taken as it is (dark ink
    becomes white lines); anything else is thinned to its line skeleton. Both
    are drawn 3 px wide, as scribble ControlNets were trained."""
    import cv2

    grey = _grey(rgb)
    if _is_line_drawing(grey):
        lines = (grey <= 127).astype(np.uint8)
    else:
        lines = _skeleton(_dark_lines(grey))
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    return _rgb(lines * 255)


def brightness(rgb: np.ndarray) -> np.ndarray:
    return _rgb(_grey(rgb))


def tile(rgb: np.ndarray) -> np.ndarray:
    return rgb.copy()


# ---- the registry --------------------------------------------------------------

# Where preprocessor models are looked for, relative to the app's models folder,
# in ComfyUI's controlnet_aux node (controlnet-aux's "Annotators" layout) and in
# A1111's / Forge's ControlNet extension (one folder per module below it).
ANNOTATOR_FOLDER = "annotators"
COMFY_ANNOTATORS = "custom_nodes/comfyui_controlnet_aux/ckpts/lllyasviel/Annotators"
COMFY_CKPTS = "custom_nodes/comfyui_controlnet_aux/ckpts"
A1111_ANNOTATORS = "extensions/sd-webui-controlnet/annotator/downloads"


@dataclass(frozen=True)
class Preprocessor:
    name: str  # as A1111's ControlNet extension names its modules, where it has one
    label: str
    run: Callable[[np.ndarray], np.ndarray] | None  # OpenCV; None: a network runs it
    model_file: str = ""  # the network's weights, as lllyasviel/Annotators names them
    kind: str = ""  # the kinds.KINDS name it makes control images for
    network: str = ""  # its module in artstudio.control.annotators; "" not built yet

    @property
    def needs_model(self) -> bool:
        return self.run is None


PREPROCESSORS: dict[str, Preprocessor] = {p.name: p for p in (
    Preprocessor("canny", "Canny edges", canny, kind="canny"),
    Preprocessor("softedge", "Soft edge (blurred gradient)", soft_edge, kind="softedge"),
    Preprocessor("lineart", "Line art (adaptive threshold)", line_art, kind="lineart"),
    Preprocessor("scribble", "Scribble (the lines, thinned)", scribble, kind="scribble"),
    Preprocessor("brightness", "Brightness (grey)", brightness, kind="brightness"),
    Preprocessor("tile", "Tile (the picture itself)", tile, kind="tile"),
    Preprocessor("depth", "Depth (Depth Anything / MiDaS)", None,
                 "depth-anything-v2-small-hf", "depth", "depth"),
    Preprocessor("normal", "Normal map (NormalBae)", None, "scannet.pt", "normal"),
    Preprocessor("openpose", "Pose (OpenPose body)", None, "body_pose_model.pth", "pose",
                 "openpose"),
    Preprocessor("seg", "Segmentation (UniFormer)", None, "upernet_global_small.pth", "seg"),
    Preprocessor("lineart_model", "Line art (network, realistic)", None, "sk_model.pth",
                 "lineart", "lineart"),
    Preprocessor("lineart_coarse", "Line art (network, coarse)", None, "sk_model2.pth",
                 "lineart", "lineart"),
    Preprocessor("lineart_anime", "Line art (network, anime)", None, "netG.pth",
                 "lineart", "lineart_anime"),
    Preprocessor("softedge_hed", "Soft edge (HED network)", None, "ControlNetHED.pth",
                 "softedge", "hed"),
)}


# A1111's ControlNet extension's module names (in its PNG parameters) for ours;
# its depth modules all become the depth network the artist has.
A1111_MODULES = {"lineart_realistic": "lineart_model", "depth_anything": "depth",
                 "depth_anything_v2": "depth", "depth_midas": "depth"}


def annotator_folders() -> list[Path]:
    from artstudio.model_files.other_apps import INSTALLS
    from artstudio.paths import user_models_dir

    home = Path.home()
    folders = [user_models_dir() / ANNOTATOR_FOLDER]
    for app, install, _s in INSTALLS:
        if app == "ComfyUI":
            folders += [home / install / COMFY_ANNOTATORS, home / install / COMFY_CKPTS]
        else:
            folders.append(home / install / A1111_ANNOTATORS)
    return folders


def _annotator(pre: Preprocessor):
    import importlib

    return importlib.import_module(f"artstudio.control.annotators.{pre.network}")


def model_path(name: str, folders: list[Path] | None = None) -> Path | None:
    """The file (or model folder) the network preprocessor `name` would load."""
    from artstudio.control.annotators import loading

    pre = PREPROCESSORS[name]
    folders = annotator_folders() if folders is None else folders
    finder = getattr(_annotator(pre), "find", None) if pre.network else None
    return finder(folders) if finder else loading.find((pre.model_file,), folders)


def unavailable_reason(name: str, folders: list[Path] | None = None) -> str | None:
    """Why the preprocessor `name` cannot run here; None when it can."""
    pre = PREPROCESSORS[name]
    if not pre.needs_model:
        return None
    folders = annotator_folders() if folders is None else folders
    found = model_path(name, folders)
    if found is None:
        what = (f"a depth-estimation model folder in transformers' layout (such as "
                f"{pre.model_file}) or Depth Anything's depth_anything_v2_vitl.pth"
                if pre.network == "depth" else f"the model {pre.model_file}")
        there = [str(f) for f in folders if f.is_dir()]
        looked = f"looked in {'; '.join(there)}" if there else "none of them exists here"
        return (f"The {pre.label} preprocessor needs {what} in {folders[0]}, ComfyUI's "
                f"{COMFY_ANNOTATORS} or A1111's {A1111_ANNOTATORS} ({looked}); or give a "
                "ready control image and turn preprocessing off.")
    if not pre.network:
        return (f"{found} is there, but running the {pre.label} preprocessor is not built yet; "
                "give a ready control image and turn preprocessing off.")
    return None


@dataclass(frozen=True)
class Availability:
    name: str
    label: str
    kind: str
    reason: str | None  # None: it can run now

    @property
    def available(self) -> bool:
        return self.reason is None


def available_preprocessors(kind_name: str | None = None,
                            folders: list[Path] | None = None) -> list[Availability]:
    """Every preprocessor (of `kind_name`, when given), the kind's own first,
    each with why it cannot run here (None when it can): what a panel offers."""
    from artstudio.control.kinds import KINDS

    folders = annotator_folders() if folders is None else folders
    defaults = {k.preprocessor for k in KINDS.values()}
    chosen = [p for p in PREPROCESSORS.values() if kind_name in (None, p.kind)]
    chosen.sort(key=lambda p: p.name not in defaults)
    return [Availability(p.name, p.label, p.kind, unavailable_reason(p.name, folders))
            for p in chosen]


def resolve(name: str, preprocessor: str = "") -> tuple[str, str]:
    """(kind, preprocessor) from a kind name or a preprocessor name
    ("softedge_hed" is the softedge kind by HED), and `preprocessor` when given,
    which must make control images of that kind."""
    from artstudio.control.kinds import KINDS, kind

    lowered = A1111_MODULES.get(name.lower(), name.lower())
    preprocessor = A1111_MODULES.get(preprocessor, preprocessor)
    if lowered not in KINDS and lowered in PREPROCESSORS:
        return PREPROCESSORS[lowered].kind, preprocessor or lowered
    chosen = kind(name)
    if not preprocessor:
        return chosen.name, chosen.preprocessor
    pre = PREPROCESSORS.get(preprocessor)
    if pre is None or pre.kind != chosen.name:
        serving = ", ".join(p.name for p in PREPROCESSORS.values() if p.kind == chosen.name)
        raise UserFacingError(f"{preprocessor!r} does not make {chosen.label} control images; "
                              f"the preprocessors of {chosen.name} are {serving}.")
    return chosen.name, preprocessor


def preprocess(kind_name: str, image, preprocessor: str = "",
               device: str | None = None) -> np.ndarray:
    """The control image of `kind_name` made from `image` (same size, RGB),
    by the kind's own preprocessor or the one named (a network one runs on
    `device`, by default the generation's)."""
    from artstudio.control.annotators import loading

    _kind, name = resolve(kind_name, preprocessor)
    pre = PREPROCESSORS[name]
    reason = unavailable_reason(pre.name)
    if reason:
        raise UserFacingError(reason)
    rgb = _on_white(image)
    if pre.run is not None:
        return pre.run(rgb)
    path = model_path(pre.name)
    assert path is not None
    return _annotator(pre).run(path, rgb, loading.device_name(device))


def as_control_image(image) -> np.ndarray:
    """A layer taken as it is (preprocessing off): RGB on white."""
    return _on_white(image)
