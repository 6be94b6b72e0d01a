"""Stable Diffusion 1.x, 2.x and SDXL: a UNet conditioned on CLIP text encoders.

The three families share one architecture, so they share how a file is
recognised and how a single-file checkpoint is assembled: text-encoder
layouts decide the family first (they do not depend on model size, so the
tests' tiny models classify like real ones), the UNet's cross-attention
width is the fallback for files without text encoders.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artstudio.diffusion.families.spec import (
    FamilySpec,
    FolderConfigs,
    LatentSpace,
    Recognised,
    Variant,
)
from artstudio.engine.errors import UserFacingError

UNET = "model.diffusion_model."
REFINER_NOTE = ("The SDXL refiner only refines an existing image; use it for image-to-image "
                "without a mask.")


def _cross_attention_dim(shapes: Mapping[str, tuple[int, ...]]) -> int | None:
    for key, shape in shapes.items():
        if key.startswith(UNET) and key.endswith("attn2.to_k.weight") and len(shape) == 2:
            return shape[1]
    return None


def recognise_checkpoint(shapes: Mapping[str, tuple[int, ...]]) -> Recognised | None:
    """(kind, prediction, notes) from an original-layout checkpoint's tensor
    names and shapes; None when the file has no SD UNet."""
    if not any(k.startswith(UNET + "input_blocks.") for k in shapes):
        return None  # no UNet (other families keep their transformer under the same prefix)
    notes: list[str] = []
    conv_in = shapes.get(UNET + "input_blocks.0.0.weight", ())
    in_channels = conv_in[1] if len(conv_in) == 4 else 4
    cross = _cross_attention_dim(shapes)
    has = lambda prefix: any(k.startswith(prefix) for k in shapes)  # noqa: E731
    if has("conditioner.embedders.1.model.") or (
            has("conditioner.embedders.0.transformer.") and has(UNET + "label_emb.")):
        family = "sdxl"
    elif has("conditioner.embedders.0.model.") and not has("conditioner.embedders.1."):
        return "sdxl-refiner", "", notes
    elif has("cond_stage_model.model."):
        family = "sd2"  # OpenCLIP text encoder
    elif has("cond_stage_model.transformer.") or cross == 768:
        family = "sd1"
    elif cross == 1024:
        family = "sd2"
    elif cross == 2048:
        family = "sdxl"
    elif cross == 1280:
        return "sdxl-refiner", "", notes
    else:
        notes.append(f"unrecognised UNet (cross-attention width {cross})")
        return "unknown", "", notes
    if in_channels == 9:
        kind = f"{family}-inpaint"
    elif in_channels != 4:
        notes.append(f"UNet takes {in_channels} input channels (instruct-pix2pix or "
                     "another special model), not supported")
        return "unknown", "", notes
    else:
        kind = "sdxl-base" if family == "sdxl" else family
    if not has("cond_stage_model.") and not has("conditioner."):
        notes.append("no text encoder inside the file")
    if not has("first_stage_model."):
        notes.append("no VAE inside the file")
    prediction = "epsilon" if family in ("sd1", "sdxl") else ""
    if "v_pred" in shapes or "v_prediction" in shapes:  # marker tensors some trainers add
        prediction = "v_prediction"
    return kind, prediction, notes


def recognise_folder(configs: FolderConfigs) -> Recognised | None:
    """(kind, prediction, notes) from a diffusers folder's configs; None when
    it has no UNet."""
    unet = configs.component("unet")
    if not unet:
        return None
    index, text = configs.index, configs.component("text_encoder")
    cls = str(index.get("_class_name", ""))
    in_channels = unet.get("in_channels", 4)
    cross = unet.get("cross_attention_dim")
    prediction = configs.scheduler.get("prediction_type", "") or ""
    has_text_encoder_2 = bool(configs.component("text_encoder_2"))
    xl = has_text_encoder_2 or unet.get("addition_embed_type") == "text_time" or "XL" in cls
    if xl:
        if index.get("text_encoder", [None])[0] is None and has_text_encoder_2:
            return "sdxl-refiner", prediction, []
        family = "sdxl"
    elif text.get("hidden_act") == "gelu" or cross == 1024:
        family = "sd2"  # OpenCLIP text encoder
    elif cross in (768, None) or text.get("hidden_act") == "quick_gelu":
        family = "sd1"
    else:
        return "unknown", prediction, [f"unrecognised pipeline {cls}"]
    if in_channels == 9:
        return f"{family}-inpaint", prediction, []
    if in_channels == 4:
        return ("sdxl-base" if family == "sdxl" else family), prediction, []
    return "unknown", prediction, [f"UNet with {in_channels} input channels not supported"]


def assemble_single_file(state: dict, config_dir: Path, index: dict, variant: Variant, dtype,
                         checkpoint: Path) -> dict[str, Any]:
    """The UNet, VAE, text encoders and tokenizers of a single-file checkpoint,
    each built from the variant's config folder without asking the hub."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.loaders.single_file_utils import create_diffusers_clip_model_from_ldm
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    from artstudio.diffusion.clip_vocab import load_tokenizer

    if not any(k.startswith("first_stage_model.") for k in state):
        raise UserFacingError(f"{checkpoint.name} has no VAE inside; this checkpoint is not "
                              "supported yet (choose a full checkpoint).")
    common = {"config": str(config_dir), "local_files_only": True, "dtype": dtype}
    parts: dict[str, Any] = {
        "unet": UNet2DConditionModel.from_single_file(state, subfolder="unet", **common),
        "vae": AutoencoderKL.from_single_file(state, subfolder="vae", **common),
    }
    for name, tokenizer, cls in (("text_encoder", "tokenizer", CLIPTextModel),
                                 ("text_encoder_2", "tokenizer_2", CLIPTextModelWithProjection)):
        if name not in index:
            continue
        if (index[name] or [None])[0] is None:  # the SDXL refiner has no first encoder
            parts[name] = parts[tokenizer] = None
            continue
        parts[name] = create_diffusers_clip_model_from_ldm(
            cls, state, subfolder=name, config=str(config_dir), torch_dtype=dtype,
            local_files_only=True)
        parts[tokenizer] = load_tokenizer(config_dir, tokenizer, checkpoint)
    return parts


SD_LATENTS = LatentSpace(
    channels=4,
    preview_factors=((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350),
                     (-0.2829, 0.1762, 0.2721), (-0.2120, -0.2616, -0.7177)),
    taesd_names=("taesd",),
)
SDXL_LATENTS = LatentSpace(
    channels=4,
    preview_factors=((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068),
                     (0.1076, 0.1111, -0.0362), (-0.3165, -0.2492, -0.2188)),
    preview_bias=(0.1084, -0.0175, -0.0011),
    taesd_names=("taesdxl",),
)
_SD = dict(recognise_checkpoint=recognise_checkpoint, recognise_folder=recognise_folder,
           assemble_single_file=assemble_single_file,
           samplers=("euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "ddim", "lcm"))
_SD_PIPELINES = {"txt2img": "StableDiffusionPipeline",
                 "img2img": "StableDiffusionImg2ImgPipeline",
                 "inpaint": "StableDiffusionInpaintPipeline"}

SD1 = FamilySpec(
    name="sd1", label="Stable Diffusion 1.x", latent=SD_LATENTS, pipelines=_SD_PIPELINES,
    variants=(Variant("sd1", "sd1", "512 px", 512),
              Variant("sd1-inpaint", "sd1-inpaint", "512 px inpainting", 512, inpaint=True)),
    **_SD)
SD2 = FamilySpec(
    name="sd2", label="Stable Diffusion 2", latent=SD_LATENTS, pipelines=_SD_PIPELINES,
    variants=(Variant("sd2", "sd2", "512 px base (predicts noise)", 512),
              Variant("sd2-v", "sd2", "768 px (predicts velocity)", 768,
                      prediction="v_prediction"),
              Variant("sd2-inpaint", "sd2-inpaint", "512 px inpainting", 512, inpaint=True)),
    **_SD)
SDXL = FamilySpec(
    name="sdxl", label="Stable Diffusion XL", latent=SDXL_LATENTS,
    pipelines={"txt2img": "StableDiffusionXLPipeline",
               "img2img": "StableDiffusionXLImg2ImgPipeline",
               "inpaint": "StableDiffusionXLInpaintPipeline"},
    variants=(Variant("sdxl-base", "sdxl-base", "1024 px base", 1024),
              Variant("sdxl-inpaint", "sdxl-inpaint", "1024 px inpainting", 1024, inpaint=True),
              Variant("sdxl-refiner", "sdxl-refiner", "1024 px refiner", 1024,
                      modes=("img2img",), only_note=REFINER_NOTE)),
    prompt_outputs=("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
                    "negative_pooled_prompt_embeds"),
    **_SD)
