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
# and in ComfyUI's controlnet_aux node (controlnet-aux's "Annotators" layout).
ANNOTATOR_FOLDER = "annotators"
COMFY_ANNOTATORS = "custom_nodes/comfyui_controlnet_aux/ckpts/lllyasviel/Annotators"


@dataclass(frozen=True)
class Preprocessor:
    name: str
    label: str
    run: Callable[[np.ndarray], np.ndarray] | None  # None: needs a network model
    model_file: str = ""  # the network's weights, as lllyasviel/Annotators names them

    @property
    def needs_model(self) -> bool:
        return self.run is None


PREPROCESSORS: dict[str, Preprocessor] = {p.name: p for p in (
    Preprocessor("canny", "Canny edges", canny),
    Preprocessor("softedge", "Soft edge (blurred gradient)", soft_edge),
    Preprocessor("lineart", "Line art (adaptive threshold)", line_art),
    Preprocessor("scribble", "Scribble (the lines, thinned)", scribble),
    Preprocessor("brightness", "Brightness (grey)", brightness),
    Preprocessor("tile", "Tile (the picture itself)", tile),
    Preprocessor("depth", "Depth (MiDaS)", None, "dpt_hybrid-midas-501f0c75.pt"),
    Preprocessor("normal", "Normal map (NormalBae)", None, "scannet.pt"),
    Preprocessor("openpose", "Pose (OpenPose)", None, "body_pose_model.pth"),
    Preprocessor("seg", "Segmentation (UniFormer)", None, "upernet_global_small.pth"),
    Preprocessor("lineart_model", "Line art (network)", None, "sk_model.pth"),
)}


def annotator_folders() -> list[Path]:
    from artstudio.model_files.other_apps import INSTALLS
    from artstudio.paths import user_models_dir

    home = Path.home()
    folders = [user_models_dir() / ANNOTATOR_FOLDER]
    folders += [home / install / COMFY_ANNOTATORS for app, install, _s in INSTALLS
                if app == "ComfyUI"]
    return folders


def unavailable_reason(name: str, folders: list[Path] | None = None) -> str | None:
    """Why the preprocessor `name` cannot run here; None when it can."""
    pre = PREPROCESSORS[name]
    if not pre.needs_model:
        return None
    folders = annotator_folders() if folders is None else folders
    found = next((f / pre.model_file for f in folders if (f / pre.model_file).is_file()), None)
    if found is None:
        return (f"The {pre.label} preprocessor needs the model {pre.model_file} in "
                f"{folders[0]} (or ComfyUI's {COMFY_ANNOTATORS}); or give a ready control "
                "image and turn preprocessing off.")
    return (f"{found} is there, but running the {pre.label} preprocessor is not built yet; "
            "give a ready control image and turn preprocessing off.")


def preprocess(kind_name: str, image) -> np.ndarray:
    """The control image of `kind_name` made from `image` (same size, RGB)."""
    from artstudio.control.kinds import kind

    pre = PREPROCESSORS[kind(kind_name).preprocessor]
    reason = unavailable_reason(pre.name)
    if reason:
        raise UserFacingError(reason)
    assert pre.run is not None
    return pre.run(_on_white(image))


def as_control_image(image) -> np.ndarray:
    """A layer taken as it is (preprocessing off): RGB on white."""
    return _on_white(image)
