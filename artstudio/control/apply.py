"""Controls in a generation: their images made once per request at the
picture's size, cut and extended as the picture is for inpainting and
outpainting, and the ControlNet pipeline of the mode built over the loaded
model's modules (no reload), several ControlNets stacked.

ControlNet models are loaded once and kept on the LoadedModel, so they go
when the model goes from the cache.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.control import controlnet_files, preprocessors, regions
from artstudio.control.controlnet_loading import load_controlnet
from artstudio.control.kinds import kind
from artstudio.control.spec import ControlSpec
from artstudio.engine.errors import UserFacingError

# (architecture, mode) -> the diffusers pipeline
PIPELINES = {
    ("sd", "txt2img"): "StableDiffusionControlNetPipeline",
    ("sd", "img2img"): "StableDiffusionControlNetImg2ImgPipeline",
    ("sd", "inpaint"): "StableDiffusionControlNetInpaintPipeline",
    ("sdxl", "txt2img"): "StableDiffusionXLControlNetPipeline",
    ("sdxl", "img2img"): "StableDiffusionXLControlNetImg2ImgPipeline",
    ("sdxl", "inpaint"): "StableDiffusionXLControlNetInpaintPipeline",
}
ARCHITECTURE_OF_FAMILY = {"sd1": "sd", "sd2": "sd", "sdxl": "sdxl"}


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if (arr.shape[1], arr.shape[0]) == size:
        return arr
    shrink = size[0] < arr.shape[1]
    # lines stay lines: no ringing when enlarging, no lost strokes when shrinking
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def text_width(model) -> int:
    unet = getattr(model.pipe, "unet", None)
    return int(getattr(getattr(unet, "config", None), "cross_attention_dim", 0) or 0)


def controlnet_for(control: ControlSpec, family: str, cross: int,
                   known: list | None = None) -> controlnet_files.ControlNetInfo:
    """The ControlNet a control names (or the library's for its kind), refused
    when it does not fit the model."""
    if control.model:
        info = controlnet_files.identify_controlnet(control.model)
    else:
        found = known if known is not None else controlnet_files.find_controlnets()
        info = controlnet_files.pick_controlnet(control.kind, family, cross, found)
    reason = info.unusable_with(family, cross)
    if reason:
        raise UserFacingError(reason)
    return info


def prepare(p, model, size: tuple[int, int]):
    """`p` with each control's ControlNet chosen and checked, and its control
    image made (preprocessed, or the layer as it is) at the picture's size:
    the init image's, else `size` (width, height). A control of another size
    is scaled, with a note. Returns (params, notes)."""
    if not p.controls and not p.regions:
        return p, []
    from artstudio.diffusion.masking import to_rgb_array

    frame = to_rgb_array(p.init_image).shape[1::-1] if p.init_image is not None else size
    p, notes = regions.prepare(p, model.family, tuple(frame))
    if not p.controls:
        return p, notes
    if model.family not in ARCHITECTURE_OF_FAMILY:
        raise UserFacingError(f"Control layers work with Stable Diffusion 1.x, 2 and XL models "
                              f"so far, not with {model.family_spec.label}.")
    cross = text_width(model)
    known = None
    prepared = []
    for i, control in enumerate(p.controls):
        if not control.model and known is None:
            known = controlnet_files.find_controlnets()
        info = controlnet_for(control, model.family, cross, known)
        image = (preprocessors.preprocess(control.kind, control.image, control.preprocessor,
                                          model.device.device) if control.preprocess
                 else preprocessors.as_control_image(control.image))
        h, w = image.shape[:2]
        note = ""
        if (w, h) != frame:
            note = f"scaled from {w}x{h} to {frame[0]}x{frame[1]}"
            notes.append(f"Control {i} ({control.kind}) was {w}x{h}; it was scaled to the "
                         f"picture's {frame[0]}x{frame[1]}.")
            image = _resize(image, frame)
        prepared.append(dataclasses.replace(control, image=image, model=str(info.path),
                                            prepared=True, note=note))
    return dataclasses.replace(p, controls=tuple(prepared)), notes


def _each_image(p, change):
    return dataclasses.replace(p, controls=tuple(
        dataclasses.replace(c, image=change(c)) for c in p.controls))


def cropped(p, box):
    """The controls and region masks cut to `box` (masking.CropBox), as the
    picture is for inpainting only the masked area."""
    p = regions.change_masks(p, lambda m: m[box.top:box.bottom, box.left:box.right])
    if not p.controls:
        return p
    return _each_image(p, lambda c: c.image[box.top:box.bottom, box.left:box.right])


def extended(p, left: int, top: int, right: int, bottom: int):
    """The controls grown as the picture is for outpainting: no lines (black)
    in the new area; a tile control continues its edge pixels."""
    import cv2

    p = regions.change_masks(p, lambda m: cv2.copyMakeBorder(
        m, top, bottom, left, right, cv2.BORDER_CONSTANT, value=0))
    if not p.controls:
        return p

    def grow(c: ControlSpec) -> np.ndarray:
        border = cv2.BORDER_REPLICATE if c.kind == "tile" else cv2.BORDER_CONSTANT
        return cv2.copyMakeBorder(c.image, top, bottom, left, right, border, value=0)

    return _each_image(p, grow)


def _controlnet_model(model, path: str):
    key = str(Path(path).resolve())
    if key not in model.controlnets:
        info = controlnet_files.identify_controlnet(path)
        net = load_controlnet(info, model.pipe.unet.config, model.device.torch_dtype)
        if not model.offload:
            net.to(model.device.torch_device)
        model.controlnets[key] = net
    return model.controlnets[key]


def _build(model, pipe, class_name: str, controlnet):
    import diffusers

    cls = getattr(diffusers, class_name)
    takes = inspect.signature(cls.__init__).parameters
    parts = {k: v for k, v in pipe.components.items() if k in takes}
    settings = {k: v for k, v in pipe.config.items() if k in takes and k not in pipe.components}
    built = cls(**parts, controlnet=controlnet, **settings)
    built.set_progress_bar_config(disable=True)
    return built


def control_pipeline(model, pipe, mode: str, p, width: int, height: int,
                     kwargs: dict[str, Any]):
    """The ControlNet pipeline for `mode` over the modules of `pipe` (the
    mode's own pipeline, its scheduler already chosen), with the control
    arguments added to `kwargs`."""
    from diffusers import MultiControlNetModel
    from PIL import Image

    nets = [_controlnet_model(model, c.model) for c in p.controls]
    controlnet = nets[0] if len(nets) == 1 else MultiControlNetModel(nets)
    class_name = PIPELINES[(ARCHITECTURE_OF_FAMILY[model.family], mode)]
    key = f"control-{mode}"
    built = model.derived.get(key)
    if built is None:
        built = model.derived[key] = _build(model, pipe, class_name, controlnet)
    elif built.controlnet is not controlnet:
        built.register_modules(controlnet=controlnet)
    built.scheduler = pipe.scheduler
    if model.offload:
        built.enable_model_cpu_offload(device=model.device.torch_device)
    images = [Image.fromarray(_resize(c.image, (width, height)), "RGB") for c in p.controls]
    one = len(images) == 1
    kwargs["image" if mode == "txt2img" else "control_image"] = images[0] if one else images
    strengths = [float(c.strength) for c in p.controls]
    kwargs.update(controlnet_conditioning_scale=strengths[0] if one else strengths,
                  control_guidance_start=[float(c.start) for c in p.controls],
                  control_guidance_end=[float(c.end) for c in p.controls])
    return built


def metadata(p) -> dict[str, Any]:
    """What the picture's metadata records of its controls and regions."""
    meta: dict[str, Any] = {}
    if p.controls:
        meta["controls"] = describe(p.controls)
    if p.regions:
        meta["regions"] = regions.describe(p.regions)
    return meta


def describe(controls) -> list[dict[str, Any]]:
    """The controls as the picture's metadata records them."""
    out = []
    for control in controls:
        path = Path(control.model) if control.model else None
        entry = {"kind": control.kind,
                 "module": (control.preprocessor or kind(control.kind).preprocessor)
                 if control.preprocess else "none",
                 "model": (path.stem if path and path.is_file() else path.name) if path else "",
                 "model_path": str(path) if path else "",
                 "weight": float(control.strength), "guidance_start": float(control.start),
                 "guidance_end": float(control.end)}
        if control.note:
            entry["note"] = control.note
        out.append(entry)
    return out
