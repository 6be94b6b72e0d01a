"""Reference images in a generation: "make it look like this", through
IP-Adapter for Stable Diffusion 1.x and XL, and FLUX.1 Redux for FLUX.1.

Each reference's adapter (named, or the library's for the model) and image
encoder are chosen and checked before the run (`prepare`). While the pipeline
runs (`reference_images`), the UNet's cross-attention reads the reference's
image tokens beside the prompt's, at the reference's weight; afterwards the
UNet's own attention is put back, so a request without references runs the
plain model. The adapter layers are built once per set of adapter files and
kept with the UNet they patch, the image encoders too, so they go when the
model leaves the cache. Every pipeline of the model (image-to-image,
inpainting, the ControlNet ones) shares that UNet, so references apply to all.

FLUX.1 Redux needs no attention of its own: SigLIP's image tokens, turned
into text tokens by the Redux file and scaled by the weight, are appended to
the prompt's T5 tokens (as FluxPriorReduxPipeline does). A reference of
weight 0 is left out, so it gives the plain picture.
"""

from __future__ import annotations

import contextlib
import dataclasses
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from artstudio.control import image_encoders, ip_adapter_files
from artstudio.control.controlnet_files import FAMILY_LABELS
from artstudio.control.spec import ReferenceSpec
from artstudio.engine.errors import UserFacingError

FAMILIES = ("sd1", "sdxl", "flux")


def supports(family: str) -> bool:
    """Whether reference images can guide a model of `family` (for the panel)."""
    return family in FAMILIES


def refusal(family: str) -> str | None:
    """Why a model of `family` cannot take reference images; None when it can."""
    if supports(family):
        return None
    label = FAMILY_LABELS.get(family, family)
    return f"Reference images work with Stable Diffusion 1.x, XL and FLUX.1 models so far, " \
           f"not with {label}."


def text_width(model) -> int:
    """The width of the text the denoiser reads (a UNet's cross-attention, FLUX's T5 tokens)."""
    denoiser = getattr(model.pipe, "unet", None) or getattr(model.pipe, "transformer", None)
    config = getattr(denoiser, "config", None)
    return int(getattr(config, "cross_attention_dim", 0)
               or getattr(config, "joint_attention_dim", 0) or 0)


def choose(reference: ReferenceSpec, family: str, cross: int, adapters=None, encoders=None
           ) -> tuple[ip_adapter_files.AdapterInfo, image_encoders.EncoderInfo]:
    """The adapter a reference names (or the library's for the model) and its
    image encoder (its download's own, the one named, or one from the
    clip_vision folders that gives what it reads); refused when either does not
    fit. `adapters` / `encoders`: the libraries, found when None."""
    if reference.model:
        adapter = ip_adapter_files.identify_adapter(reference.model)
    else:
        known = adapters if adapters is not None else ip_adapter_files.find_adapters()
        adapter = ip_adapter_files.pick_adapter(family, cross, known)
    reason = adapter.unusable_with(family, cross)
    if reason:
        raise UserFacingError(reason)
    assert adapter.need is not None
    if adapter.encoder is not None or reference.encoder:
        encoder = image_encoders.identify_encoder(adapter.encoder or reference.encoder)
        if not encoder.fits(adapter.need):
            why = "; ".join(encoder.notes) or (
                f"it gives an image embedding {encoder.projection} wide and hidden states "
                f"{encoder.hidden} wide")
            raise UserFacingError(f"{adapter.name} needs the image encoder "
                                  f"{adapter.need.describe()}; {encoder.path.name} does not fit "
                                  f"({why}).")
        return adapter, encoder
    found = encoders if encoders is not None else image_encoders.find_encoders()
    return adapter, image_encoders.pick_encoder(adapter.need, adapter.name, found)


def reference_pixels(image) -> np.ndarray:
    """A layer or file as RGB, laid on white where it is transparent (as the
    artist sees it)."""
    arr = np.asarray(image.convert("RGBA") if hasattr(image, "convert") else image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.dtype != np.uint8:
        arr = np.clip(arr * (255 if arr.max() <= 1.0 else 1), 0, 255).astype(np.uint8)
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3:].astype(np.float32) / 255.0
        arr = np.rint(arr[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(arr[:, :, :3])


def prepare(p, model):
    """`p` with each reference's adapter and encoder chosen and checked and its
    image as RGB. Returns (params, notes)."""
    if not p.references:
        return p, []
    reason = refusal(model.family)
    if reason:
        raise UserFacingError(reason)
    if p.regions:
        raise UserFacingError("Reference images and regions cannot be used together yet; "
                              "turn one of them off.")
    cross = text_width(model)
    adapters = encoders = None
    prepared = []
    for reference in p.references:
        if not reference.model and adapters is None:
            adapters = ip_adapter_files.find_adapters()
        if encoders is None and not reference.encoder:
            encoders = image_encoders.find_encoders()
        adapter, encoder = choose(reference, model.family, cross, adapters, encoders)
        prepared.append(dataclasses.replace(
            reference, image=reference_pixels(reference.image), model=str(adapter.path),
            encoder=str(encoder.path)))
    return dataclasses.replace(p, references=tuple(prepared)), []


# ---- the run ---------------------------------------------------------------------

class _Kept:
    """What references add to one denoiser (a UNet, or FLUX's transformer), kept
    between runs."""

    def __init__(self) -> None:
        self.files: tuple[str, ...] = ()  # the adapter files the layers below hold
        self.processors: dict[str, Any] = {}
        self.projection = None
        self.encoders: dict[str, tuple[Any, Any]] = {}  # path -> (network, preprocessing)


# Keyed by the denoiser the layers patch, so they go when the model goes.
_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _adapter_state(path: str) -> dict[str, dict[str, Any]]:
    from artstudio.model_files import safe_load

    state: dict[str, dict[str, Any]] = {"image_proj": {}, "ip_adapter": {}}
    for key, value in safe_load.load_state_dict(path).items():
        part, dot, rest = key.partition(".")
        if dot and part in state:
            state[part][rest] = value
    return state


def _unet_processors(unet) -> dict[str, Any]:
    """The UNet's own attention processors, not those inside a plus adapter's
    Resampler (which count as the UNet's while it is attached)."""
    return {name: proc for name, proc in unet.attn_processors.items()
            if not name.startswith("encoder_hid_proj.")}


def _install(unet, files: tuple[str, ...]) -> None:
    """The adapter layers of `files` into `unet` (built once per set of files)."""
    from artstudio.engine.network_building import NETWORK_BUILDING

    kept = _KEPT.setdefault(unet, _Kept())
    if kept.files != files:
        kept.files, kept.processors, kept.projection = (), {}, None
        states = [_adapter_state(f) for f in files]
        try:
            with NETWORK_BUILDING:
                unet._load_ip_adapter_weights(states, low_cpu_mem_usage=False)
        except (KeyError, RuntimeError, ValueError) as exc:  # layers or widths of another UNet
            names = ", ".join(Path(f).stem for f in dict.fromkeys(files))
            raise UserFacingError(f"{names} does not fit this model's UNet "
                                  f"({type(exc).__name__}: {str(exc)[:120]}).") from exc
        kept.files, kept.processors = files, _unet_processors(unet)
        kept.projection = unet.encoder_hid_proj
        return
    unet.encoder_hid_proj = None
    unet.set_attn_processor(dict(kept.processors))
    unet.encoder_hid_proj = kept.projection
    unet.config.encoder_hid_dim_type = "ip_image_proj"


def _set_weights(unet, weights: list[float]) -> None:
    from diffusers.models.attention_processor import (
        IPAdapterAttnProcessor,
        IPAdapterAttnProcessor2_0,
    )

    for processor in unet.attn_processors.values():
        if isinstance(processor, (IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0)):
            processor.scale = list(weights)


def _encoder(model, unet, path: str):
    kept = _KEPT.setdefault(unet, _Kept())
    if path not in kept.encoders:
        info = image_encoders.identify_encoder(path)
        device = "cpu" if model.offload else model.device.torch_device
        kept.encoders[path] = (image_encoders.load_encoder(info, device,
                                                           model.device.torch_dtype),
                               image_encoders.feature_extractor(info))
    return kept.encoders[path]


def image_embeds(model, unet, reference: ReferenceSpec, guided: bool):
    """What the pipeline takes as `ip_adapter_image_embeds` for one reference:
    [2, 1, ...] (the unguided half first) when guided, else [1, 1, ...]."""
    import torch
    from PIL import Image

    adapter = ip_adapter_files.identify_adapter(reference.model)
    assert adapter.need is not None
    network, extractor = _encoder(model, unet, reference.encoder)
    pixels = extractor(Image.fromarray(reference.image, "RGB"), return_tensors="pt").pixel_values
    pixels = pixels.to(network.device, network.dtype)
    with torch.inference_mode():
        if adapter.need.hidden_states:
            made = network(pixels, output_hidden_states=True).hidden_states[-2]
            unguided = network(torch.zeros_like(pixels), output_hidden_states=True
                               ).hidden_states[-2]
        else:
            made = network(pixels).image_embeds
            unguided = torch.zeros_like(made)
    embeds = torch.cat([unguided[None], made[None]]) if guided else made[None]
    return embeds.to(unet.device, unet.dtype)


def _redux(kept: _Kept, path: str, device, dtype):
    """The Redux file's two layers (ReduxImageEncoder), loaded once."""
    if path not in kept.encoders:
        from diffusers.pipelines.flux.modeling_flux import ReduxImageEncoder

        from artstudio.engine.network_building import NETWORK_BUILDING
        from artstudio.model_files import safe_load

        state = safe_load.load_state_dict(path)
        up = state["redux_up.weight"]
        with NETWORK_BUILDING:
            net = ReduxImageEncoder(redux_dim=up.shape[1], txt_in_features=up.shape[0] // 3)
        net.load_state_dict(state)
        kept.encoders[path] = (net.to(device=device, dtype=dtype).eval(), None)
    return kept.encoders[path][0]


def _redux_prompt(model, pipe, p, kwargs: dict[str, Any]) -> None:
    """`kwargs` with the prompt as T5 and CLIP embeddings, the references'
    Redux tokens appended to the T5 ones."""
    import torch
    from PIL import Image

    transformer = pipe.transformer
    if "prompt_embeds" not in kwargs:
        embeds, pooled, _ids = pipe.encode_prompt(
            prompt=kwargs.pop("prompt"), prompt_2=kwargs.pop("prompt_2", None),
            device=pipe._execution_device, num_images_per_prompt=1)
        kwargs.update(prompt_embeds=embeds, pooled_prompt_embeds=pooled)
    embeds = kwargs["prompt_embeds"]
    kept = _KEPT.setdefault(transformer, _Kept())
    tokens = []
    for reference in p.references:
        if reference.weight <= 0:
            continue
        network, extractor = _encoder(model, transformer, reference.encoder)
        pixels = extractor(Image.fromarray(reference.image, "RGB"),
                           return_tensors="pt").pixel_values.to(network.device, network.dtype)
        redux = _redux(kept, reference.model, network.device, network.dtype)
        with torch.inference_mode():
            made = redux(network(pixels).last_hidden_state).image_embeds
        tokens.append((made * float(reference.weight)).to(embeds.device, embeds.dtype))
    kwargs["prompt_embeds"] = torch.cat([embeds, *tokens], dim=1)


@contextlib.contextmanager
def reference_images(model, pipe, p, kwargs: dict[str, Any]):
    """While the pipeline runs, its UNet reads `p.references` (prepared) at
    their weights; `kwargs` gain their image embeddings. The UNet's own
    attention is put back afterwards."""
    if not getattr(p, "references", ()):
        yield
        return
    if model.family == "flux":
        _redux_prompt(model, pipe, p, kwargs)
        yield
        return
    unet = pipe.unet
    original = _unet_processors(unet)
    projection, hid_type = unet.encoder_hid_proj, unet.config.encoder_hid_dim_type
    guided = (float(kwargs.get("guidance_scale", 1.0)) > 1.0
              and unet.config.time_cond_proj_dim is None)
    try:
        _install(unet, tuple(r.model for r in p.references))
        _set_weights(unet, [float(r.weight) for r in p.references])
        kwargs["ip_adapter_image_embeds"] = [image_embeds(model, unet, r, guided)
                                             for r in p.references]
        yield
    finally:
        unet.encoder_hid_proj = None
        unet.set_attn_processor(original)
        unet.encoder_hid_proj = projection
        unet.config.encoder_hid_dim_type = hid_type


def _module(encoder_path: str) -> str:
    """The preprocessor name A1111's ControlNet extension gives the encoder."""
    info = image_encoders.identify_encoder(encoder_path) if encoder_path else None
    if info and info.network == "siglip":
        return "flux-redux"  # no A1111 extension has Redux; the name says what it was
    hidden = info.hidden if info else 0
    return {1280: "ip-adapter_clip_h", 1664: "ip-adapter_clip_g"}.get(hidden, "ip-adapter_clip")


def describe(references) -> list[dict[str, Any]]:
    """The references as the picture's metadata records them."""
    out = []
    for reference in references:
        path = Path(reference.model) if reference.model else None
        encoder = Path(reference.encoder) if reference.encoder else None
        entry = {"model": path.stem if path else "", "model_path": str(path or ""),
                 "encoder": (encoder.stem if encoder.is_file() else encoder.name)
                 if encoder else "",
                 "module": _module(reference.encoder), "weight": float(reference.weight),
                 "guidance_start": 0.0, "guidance_end": 1.0}
        if reference.note:
            entry["note"] = reference.note
        out.append(entry)
    return out


def metadata(p) -> dict[str, Any]:
    return {"references": describe(p.references)} if p.references else {}
