"""ControlNet models as artists keep them: diffusers folders (a config.json
naming a ControlNet class) and single files in A1111's `models/ControlNet` and
ComfyUI's `models/controlnet`, recognised by their tensors, never their names,
and matched to a model's family.

The tensors say the architecture (an SD UNet copy, SDXL's with its added
embedding, a union ControlNet with its task embedding, SD3's and FLUX's
transformer ControlNets, Control-LoRAs, T2I-Adapters) and the width of the
text its cross-attention reads (768 SD 1.x, 1024 SD 2, 2048 SDXL). What a
file was trained to read (canny, depth...) is not in its tensors; the file
name says it, when it does. Reading an identity never loads weights.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from artstudio.control.kinds import kind_from_file_name
from artstudio.engine.errors import UserFacingError
from artstudio.model_files import safe_load, tensor_table

# Folder names under an app's models/ folder that hold ControlNets
CONTROLNET_FOLDERS = ("ControlNet", "controlnet")
LDM_PREFIX = "control_model."  # the original ControlNet 1.0 files nest everything here
_CROSS_WIDTHS = {768: "sd1", 1024: "sd2", 2048: "sdxl"}
FAMILY_LABELS = {"sd1": "Stable Diffusion 1.x", "sd2": "Stable Diffusion 2",
                 "sdxl": "Stable Diffusion XL", "sd3": "Stable Diffusion 3.5",
                 "flux": "FLUX.1", "": "an unknown model family"}
SD3_LATENT_CHANNELS = 16
INPAINT_SD3_NOTE = "an SD3 inpainting ControlNet (it reads the picture and its mask)"
# Architectures generation runs with
GENERATES = ("sd", "sdxl", "union-sdxl", "sd3", "flux")


@dataclass(frozen=True)
class ControlNetInfo:
    path: Path
    # "sd" (an SD 1.x/2 UNet copy), "sdxl", "union-sdxl", "sd3", "sd3-inpaint", "flux",
    # "control-lora", "t2i-adapter", or "" when it is no ControlNet
    architecture: str
    family: str  # "sd1", "sd2", "sdxl", "sd3", "flux", or "" when the tensors do not say
    format: str  # "diffusers" (a folder) or "single-file"
    kind: str = ""  # a control kind from the file name, "union" for multi-type ones
    cross_width: int = 0  # the text width the cross-attention reads, 0 when none or unknown
    layout: str = ""  # a single file's key layout: "diffusers" or "ldm" (A1111's originals)
    modes: int = 0  # a union ControlNet's number of control types, 0 for single-kind ones
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.name if self.format == "diffusers" else self.path.stem

    @property
    def is_controlnet(self) -> bool:
        return self.architecture not in ("", "t2i-adapter")

    def family_label(self) -> str:
        if self.family:
            return FAMILY_LABELS[self.family]
        if self.architecture == "sd":
            return f"Stable Diffusion 1.x / 2 (text width {self.cross_width})"
        return FAMILY_LABELS[""]

    def unusable_with(self, family: str, cross_width: int) -> str | None:
        """Why this ControlNet cannot guide a model of `family` whose denoiser
        reads text `cross_width` wide; None when it can."""
        if not self.is_controlnet:
            return f"{self.path.name} is not a ControlNet ({'; '.join(self.notes)})."
        fits_family = (self.family == family if self.family else
                       self.architecture == "sd" and family in ("sd1", "sd2"))
        if not fits_family or (self.cross_width and cross_width
                               and self.cross_width != cross_width):
            return (f"{self.name} is a ControlNet for {self.family_label()} models; it cannot "
                    f"guide this {FAMILY_LABELS.get(family, family)} model.")
        if self.layout == "xlabs":
            return (f"{self.name} is a FLUX.1 ControlNet in XLabs' layout, which diffusers "
                    "cannot load; use a diffusers-format FLUX.1 ControlNet (InstantX's or "
                    "Shakker-Labs', a folder or its diffusion_pytorch_model.safetensors).")
        if self.architecture == "sd3-inpaint":
            return (f"{self.name} is {INPAINT_SD3_NOTE}; guiding inpainting with it is not "
                    "built yet: inpaint with the model itself.")
        if self.architecture not in GENERATES:
            return (f"{self.name} is a {self.architecture} ControlNet for "
                    f"{self.family_label()}; generating with it is not built yet.")
        return None


def _strip_prefix(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    if any(k.startswith(LDM_PREFIX) for k in shapes):
        return {k.removeprefix(LDM_PREFIX): v for k, v in shapes.items()
                if k.startswith(LDM_PREFIX)}
    return dict(shapes)


def cross_width(shapes: Mapping[str, tuple[int, ...]]) -> int:
    widths = [s[1] for k, s in shapes.items() if k.endswith("attn2.to_k.weight") and len(s) == 2]
    return max(widths, default=0)


def classify_tensors(shapes: Mapping[str, tuple[int, ...]]) -> tuple[str, str, str, list[str]]:
    """(architecture, family, layout, notes) from tensor names and shapes."""
    keys = _strip_prefix(shapes)
    has = lambda *marks: any(k.startswith(marks) for k in keys)  # noqa: E731
    if has("lora_controlnet"):
        return "control-lora", "sdxl" if has("label_emb") else "", "ldm", [
            "a Control-LoRA (Stability's low-rank ControlNet)"]
    if has("adapter.body.", "body.0.block1.", "body.0.resnets.") and not has(
            "controlnet_", "input_hint_block", "zero_convs"):
        return "t2i-adapter", "", "", ["a T2I-Adapter, not a ControlNet"]
    if has("controlnet_x_embedder", "controlnet_mode_embedder"):
        return "flux", "flux", "diffusers", ["a FLUX.1 ControlNet"]
    if has("double_blocks.") and has("controlnet_blocks."):
        return "flux", "flux", "xlabs", ["a FLUX.1 ControlNet (XLabs layout)"]
    if has("pos_embed_input.") and has("transformer_blocks."):
        proj = keys.get("pos_embed_input.proj.weight", ())
        if len(proj) == 4 and proj[1] > SD3_LATENT_CHANNELS:
            return "sd3-inpaint", "sd3", "diffusers", [INPAINT_SD3_NOTE]
        return "sd3", "sd3", "diffusers", ["an SD3 ControlNet"]
    width = cross_width(keys)
    if has("task_embedding", "control_type_proj", "transformer_layes."):
        return "union-sdxl", "sdxl", "diffusers", [
            "a union ControlNet (one file for several control kinds)"]
    diffusers_layout = has("controlnet_cond_embedding.")
    if not diffusers_layout and not has("input_hint_block.", "zero_convs."):
        return "", "", "", ["its tensors are not a ControlNet's"]
    layout = "diffusers" if diffusers_layout else "ldm"
    if has("add_embedding.", "label_emb."):
        return "sdxl", "sdxl", layout, []
    return "sd", _CROSS_WIDTHS.get(width, ""), layout, []


def _modes(shapes: Mapping[str, tuple[int, ...]]) -> int:
    """How many control types a union ControlNet's tensors know (SDXL's task
    embedding, FLUX's mode embedding); 0 for single-kind ControlNets."""
    for key in ("task_embedding", "controlnet_mode_embedder.weight"):
        if key in shapes:
            return int(shapes[key][0])
    return 0


def _file_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    if path.suffix.lower() in safe_load.PICKLE_SUFFIXES:
        return safe_load.read_keys_and_shapes(path)
    return tensor_table.shapes_of(tensor_table.read_tensor_table(path))


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


_FOLDER_CLASSES = {"ControlNetModel": "sd", "ControlNetUnionModel": "union-sdxl",
                   "SD3ControlNetModel": "sd3", "FluxControlNetModel": "flux"}


def _identify_folder(folder: Path) -> ControlNetInfo:
    config = _read_json(folder / "config.json")
    architecture = _FOLDER_CLASSES.get(str(config.get("_class_name", "")), "")
    if not architecture:
        return ControlNetInfo(folder, "", "", "diffusers",
                              notes=("its config.json names no ControlNet class",))
    if not any(folder.glob("diffusion_pytorch_model*.safetensors")):
        return ControlNetInfo(folder, "", "", "diffusers", notes=(
            "the folder has no diffusion_pytorch_model.safetensors weights",))
    width = int(config.get("cross_attention_dim") or 0)
    notes: tuple[str, ...] = ()
    if architecture == "sd3" and config.get("extra_conditioning_channels"):
        architecture, notes = "sd3-inpaint", (INPAINT_SD3_NOTE,)
    family = {"sd3": "sd3", "sd3-inpaint": "sd3", "flux": "flux",
              "union-sdxl": "sdxl"}.get(architecture, "")
    if architecture == "sd":
        if config.get("addition_embed_type") == "text_time":
            architecture, family = "sdxl", "sdxl"
        else:
            family = _CROSS_WIDTHS.get(width, "")
    modes = int(config.get("num_control_type") or 0) if architecture == "union-sdxl" else \
        int(config.get("num_mode") or 0)
    kind = "union" if modes else kind_from_file_name(folder.name)
    return ControlNetInfo(folder, architecture, family, "diffusers", kind, width, "diffusers",
                          modes, notes)


def identify_controlnet(path: str | os.PathLike) -> ControlNetInfo:
    """A ControlNet file or diffusers folder, identified by reading it; anything
    else comes back with an empty architecture and the reason in `notes`."""
    path = Path(path)
    if path.is_dir():
        return _identify_folder(path)
    if not path.is_file():
        return ControlNetInfo(path, "", "", "single-file", notes=("there is no such file",))
    try:
        shapes = _file_shapes(path)
    except (UserFacingError, OSError) as exc:
        return ControlNetInfo(path, "", "", "single-file", notes=(str(exc),))
    architecture, family, layout, notes = classify_tensors(shapes)
    modes = _modes(shapes)
    kind = "union" if modes else kind_from_file_name(path.stem)
    if architecture and not kind:
        notes.append("the file name does not say which kind of control it reads")
    return ControlNetInfo(path, architecture, family, "single-file", kind,
                          cross_width(_strip_prefix(shapes)), layout, modes, tuple(notes))


# ---- finding them ----------------------------------------------------------------

def controlnet_roots(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Where ControlNets are looked for: the app's models/controlnet, the
    ControlNet folders of other apps' installs (models/ControlNet,
    models/controlnet), and the folders the artist added (an install's root
    or models folder works as well as the ControlNet folder itself)."""
    from artstudio.control.library import model_roots

    return model_roots(CONTROLNET_FOLDERS, extra)


_WEIGHT_SUFFIXES = (*safe_load.SAFETENSORS_SUFFIXES, ".pth", ".pt", ".ckpt")


def find_controlnets(roots: Iterable[Path] | None = None,
                     max_depth: int = 2) -> list[ControlNetInfo]:
    """Every ControlNet under `roots` (default controlnet_roots()), by name;
    files and folders that are not ControlNets are left out."""
    from artstudio.control.library import find_models

    def is_candidate(entry: Path) -> bool:
        if entry.is_dir():
            return (entry / "config.json").is_file()
        return entry.is_file() and entry.suffix.lower() in _WEIGHT_SUFFIXES

    return find_models(roots if roots is not None else controlnet_roots(), max_depth,
                       is_candidate, identify_controlnet, lambda info: info.is_controlnet)


def pick_controlnet(kind: str, family: str, cross: int,
                    known: Iterable[ControlNetInfo]) -> ControlNetInfo:
    """The ControlNet for `kind` that fits the model (by family and text
    width): one named for the kind first, else a union ControlNet; a clear
    message when the library has none."""
    fitting = [i for i in known if i.unusable_with(family, cross) is None]
    for wanted in (kind, "union"):
        for info in fitting:
            if info.kind == wanted and (wanted != "union" or _union_reads(info, kind)):
                return info
    label = FAMILY_LABELS.get(family, family)
    raise UserFacingError(
        f"No {kind} ControlNet for {label} models was found in the ControlNet folders "
        "(models/ControlNet, models/controlnet); name one (KIND:IMAGE:MODEL) or add one there.")


def _union_reads(info: ControlNetInfo, kind: str) -> bool:
    from artstudio.control.union_modes import control_mode

    try:
        control_mode(kind, info.architecture, info.modes or None, info.name)
    except UserFacingError:
        return False
    return True


def resolve_controlnet(name: str, known: Iterable[ControlNetInfo]) -> ControlNetInfo:
    """The ControlNet a path or a name in the library means."""
    from artstudio.control.library import resolve_named

    return resolve_named(name, known, identify_controlnet,
                         f"The ControlNet “{name}” is neither a file nor a folder, nor a name "
                         "in the ControlNet folders (models/ControlNet, models/controlnet).")
