"""Controls in a generation: their images made once per request at the
picture's size, cut and extended as the picture is for inpainting and
outpainting, and the ControlNet pipeline of the mode built over the loaded
model's modules (no reload), several ControlNets stacked: SD 1.x / 2 / XL
(also union ControlNets, told each control's type), SD3.5 and FLUX.1.

ControlNet models are loaded once and kept on the LoadedModel under a
budget (controlnet_cache), so they go when the model goes from the cache.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.control import (
    controlnet_cache,
    controlnet_files,
    preprocessors,
    regions,
    union_modes,
)
from artstudio.control.control_latents import control_images_at_mode
from artstudio.control.controlnet_loading import load_controlnet
from artstudio.control.kinds import kind
from artstudio.control.spec import ControlSpec
from artstudio.engine.errors import UserFacingError

# (ControlNet architecture, mode) -> the diffusers pipeline
PIPELINES = {
    ("sd", "txt2img"): "StableDiffusionControlNetPipeline",
    ("sd", "img2img"): "StableDiffusionControlNetImg2ImgPipeline",
    ("sd", "inpaint"): "StableDiffusionControlNetInpaintPipeline",
    ("sdxl", "txt2img"): "StableDiffusionXLControlNetPipeline",
    ("sdxl", "img2img"): "StableDiffusionXLControlNetImg2ImgPipeline",
    ("sdxl", "inpaint"): "StableDiffusionXLControlNetInpaintPipeline",
    ("union-sdxl", "txt2img"): "StableDiffusionXLControlNetUnionPipeline",
    ("union-sdxl", "img2img"): "StableDiffusionXLControlNetUnionImg2ImgPipeline",
    ("union-sdxl", "inpaint"): "StableDiffusionXLControlNetUnionInpaintPipeline",
    ("sd3", "txt2img"): "StableDiffusion3ControlNetPipeline",
    ("flux", "txt2img"): "FluxControlNetPipeline",
    ("flux", "img2img"): "FluxControlNetImg2ImgPipeline",
    ("flux", "inpaint"): "FluxControlNetInpaintPipeline",
}
# Several ControlNets of one architecture run through diffusers' wrapper for it
MULTI = {"sd": "MultiControlNetModel", "sdxl": "MultiControlNetModel",
         "union-sdxl": "MultiControlNetUnionModel", "sd3": "SD3MultiControlNetModel",
         "flux": "FluxMultiControlNetModel"}
CONTROL_FAMILIES = ("sd1", "sd2", "sdxl", "sd3", "flux")
_ARCHITECTURE_OF_CLASS = {"ControlNetModel": "sd", "ControlNetUnionModel": "union-sdxl",
                          "SD3ControlNetModel": "sd3", "FluxControlNetModel": "flux"}
_MODE_WORDS = {"txt2img": "text-to-image", "img2img": "image-to-image", "inpaint": "inpainting"}


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


def _denoiser(model):
    return getattr(model.pipe, "unet", None) or model.pipe.transformer


def _pipeline_mode(mode: str) -> str:
    return {"outpaint": "inpaint"}.get(mode, mode)


def _check_family(model) -> None:
    if model.family not in CONTROL_FAMILIES:
        raise UserFacingError(f"Control layers work with Stable Diffusion 1.x, 2, XL, 3.5 and "
                              f"FLUX.1 models, not with {model.family_spec.label}.")
    if model.variant_spec.pipeline:  # FLUX.1 Fill and Kontext have no ControlNet pipeline
        raise UserFacingError(f"Control layers cannot guide {model.family_spec.label} "
                              f"{model.variant_spec.label}; use a dev or schnell model.")


def _check_together(infos: list, mode: str) -> None:
    """The ControlNets of one request: one pipeline must take them all."""
    architectures = {i.architecture for i in infos}
    if len(architectures) > 1:
        raise UserFacingError("Union and single-kind SDXL ControlNets cannot guide one picture "
                              "together; use one union ControlNet for every control, or none.")
    architecture = architectures.pop()
    if (architecture, _pipeline_mode(mode)) not in PIPELINES:
        raise UserFacingError(
            f"{infos[0].family_label()} ControlNets guide text-to-image only, not "
            f"{_MODE_WORDS.get(_pipeline_mode(mode), mode)}: diffusers has no pipeline for it.")


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
    _check_family(model)
    cross = text_width(model)
    known = None
    prepared, infos = [], []
    for i, control in enumerate(p.controls):
        if not control.model and known is None:
            known = controlnet_files.find_controlnets()
        info = controlnet_for(control, model.family, cross, known)
        if info.modes:
            union_modes.control_mode(control.kind, info.architecture, info.modes, info.name)
        infos.append(info)
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
    _check_together(infos, p.mode)
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


def _controlnet_key(path: str) -> str:
    return str(Path(path).resolve())


def _load_controlnet(model, path: str):
    info = controlnet_files.identify_controlnet(path)
    net = load_controlnet(info, _denoiser(model).config, model.device.torch_dtype)
    if info.architecture == "sd3" and not net.config.use_pos_embed:
        # SD3.5 large's ControlNets read the picture through the transformer's patches
        net.pos_embed = net._get_pos_embed_from_transformer(model.pipe.transformer).to(
            net.dtype)
    if not model.offload:
        net.to(model.device.torch_device)
    return net


def _build(model, pipe, class_name: str, controlnet):
    import diffusers

    cls = getattr(diffusers, class_name)
    takes = inspect.signature(cls.__init__).parameters
    parts = {k: v for k, v in pipe.components.items() if k in takes}
    settings = {k: v for k, v in pipe.config.items() if k in takes and k not in pipe.components}
    built = cls(**parts, controlnet=controlnet, **settings)
    built.set_progress_bar_config(disable=True)
    return built


def _modes(nets, controls, architecture: str) -> list[int | None]:
    types = [getattr(n.config, "num_control_type", None) or getattr(n.config, "num_mode", None)
             for n in nets]
    return [union_modes.control_mode(c.kind, architecture, t, Path(c.model).name)
            for c, t in zip(controls, types, strict=True)]


def _controlnet(nets, architecture: str):
    """One ControlNet, or diffusers' wrapper for several; several controls
    through one union SDXL model go to it together."""
    import diffusers

    if len(nets) == 1 or (architecture == "union-sdxl" and all(n is nets[0] for n in nets)):
        return nets[0]
    return getattr(diffusers, MULTI[architecture])(nets)


def control_pipeline(model, pipe, mode: str, p, width: int, height: int,
                     kwargs: dict[str, Any]):
    """The ControlNet pipeline for `mode` over the modules of `pipe` (the
    mode's own pipeline, its scheduler already chosen), with the control
    arguments added to `kwargs`."""
    from PIL import Image

    keys = [_controlnet_key(c.model) for c in p.controls]
    nets = [controlnet_cache.kept(model, key, lambda c=c: _load_controlnet(model, c.model), keys)
            for key, c in zip(keys, p.controls, strict=True)]
    architecture = _ARCHITECTURE_OF_CLASS[type(nets[0]).__name__]
    if architecture == "sd" and model.family == "sdxl":
        architecture = "sdxl"
    if architecture == "sd3" and len({n.config.joint_attention_dim is None for n in nets}) > 1:
        raise UserFacingError("SD3.5 ControlNets that read the prompt (InstantX's) and ones "
                              "that do not (Stability AI's) cannot guide one picture together.")
    controlnet = _controlnet(nets, architecture)
    class_name = PIPELINES[(architecture, _pipeline_mode(mode))]
    key = f"control-{class_name}"
    built = model.derived.get(key)
    if built is None:
        built = model.derived[key] = _build(model, pipe, class_name, controlnet)
    elif built.controlnet is not controlnet:
        built.register_modules(controlnet=controlnet)
    built.scheduler = pipe.scheduler
    if model.offload:
        built.enable_model_cpu_offload(device=model.device.torch_device)
    images = [Image.fromarray(_resize(c.image, (width, height)), "RGB") for c in p.controls]
    strengths = [float(c.strength) for c in p.controls]
    one = len(images) == 1
    takes_list = architecture == "union-sdxl"  # a union model takes its controls as lists
    image_key = "image" if architecture in ("sd", "sdxl") and mode == "txt2img" else \
        "control_image"
    kwargs[image_key] = images[0] if one and not takes_list else images
    kwargs.update(controlnet_conditioning_scale=strengths[0] if one else strengths,
                  control_guidance_start=[float(c.start) for c in p.controls],
                  control_guidance_end=[float(c.end) for c in p.controls])
    if architecture in ("union-sdxl", "flux"):
        modes = _modes(nets, p.controls, architecture)
        kwargs["control_mode"] = modes[0] if one and not takes_list else modes
    return built


def encoding_controls(pipe, p):
    """While `pipe` runs: SD3's and FLUX's pipelines encode the control
    images with the VAE first; encode them at the distribution's mode so they
    draw no noise (the seed's noise stays the plain picture's, and SD3's no
    longer depends on the global random state)."""
    count = len(p.controls) if type(pipe).__name__.startswith(("Flux", "StableDiffusion3")) \
        and p.controls else 0
    return control_images_at_mode(getattr(pipe, "vae", None), count)


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
