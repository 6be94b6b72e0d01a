"""Stable Diffusion 3 and 3.5: a joint (MMDiT) transformer on a 16-channel
VAE, conditioned on CLIP-L, CLIP-G and, optionally, T5-XXL.

The variants are told apart by their blocks, not their size (so the tests'
tiny models classify like real ones): SD3.5 medium's first blocks carry a
second self-attention (`attn2`, MMDiT-X), SD3.5 large normalises its queries
and keys (`ln_q`), SD3 medium has neither. SD3.5 large and large turbo have
the same tensors; only the artist can say which one a file is.

T5 is optional, as diffusers allows: a folder without `text_encoder_3`, a
single file without `text_encoders.t5xxl.*` or a T5 whose tokenizer cannot be
found offline loads with `text_encoder_3=None` (prompts then reach the model
through the two CLIP encoders only).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artstudio.diffusion.families.embedded_parts import require_embedded
from artstudio.diffusion.families.spec import (
    FamilySpec,
    FolderConfigs,
    LatentSpace,
    Recognised,
    Variant,
)

log = logging.getLogger(__name__)

PREFIXES = ("model.diffusion_model.", "")  # all-in-one files, bare transformer files
FIRST_BLOCK = "joint_blocks.0.context_block.adaLN_modulation.1.bias"
CLIP_L = "text_encoders.clip_l.transformer."
CLIP_G = "text_encoders.clip_g.transformer."
T5 = "text_encoders.t5xxl.transformer."
FLOW = "flow"  # the prediction of rectified-flow models: no epsilon / v choice to make
SAMPLER = "flow_euler"


def _kind(dual_attention: bool, qk_norm: bool) -> tuple[str, str]:
    """(kind, prediction) from the two block features that tell the variants apart."""
    if dual_attention:
        return "sd35-medium", FLOW
    if qk_norm:
        return "sd35-large", ""  # large or large turbo: the artist is asked once
    return "sd3-medium", FLOW


def recognise_checkpoint(shapes: Mapping[str, tuple[int, ...]]) -> Recognised | None:
    """(kind, prediction, notes) from an SD3 file's tensor names; None when it
    has no MMDiT."""
    prefix = next((p for p in PREFIXES if p + FIRST_BLOCK in shapes), None)
    if prefix is None:
        return None
    blocks = prefix + "joint_blocks."
    dual = any(k.startswith(blocks) and ".x_block.attn2." in k for k in shapes)
    qk_norm = any(k.startswith(blocks) and ".attn.ln_q." in k for k in shapes)
    kind, prediction = _kind(dual, qk_norm)
    has = lambda p: any(k.startswith(p) for k in shapes)  # noqa: E731
    notes: list[str] = []
    if not (has(CLIP_L) and has(CLIP_G)):
        notes.append("no CLIP text encoders inside the file")
    elif not has(T5):
        notes.append("no T5 text encoder inside (generates with the CLIP encoders alone)")
    if not has("first_stage_model."):
        notes.append("no VAE inside the file")
    return kind, prediction, notes


def recognise_folder(configs: FolderConfigs) -> Recognised | None:
    """(kind, prediction, notes) from a diffusers folder's configs; None when
    its transformer is not SD3's."""
    transformer = configs.component("transformer")
    if transformer.get("_class_name") != "SD3Transformer2DModel":
        return None
    kind, prediction = _kind(bool(transformer.get("dual_attention_layers")),
                             bool(transformer.get("qk_norm")))
    notes = [] if has_t5(configs.index) else ["no T5 text encoder (generates with the CLIP "
                                              "encoders alone)"]
    return kind, prediction, notes


def has_t5(index: Mapping[str, Any]) -> bool:
    return (index.get("text_encoder_3") or [None])[0] is not None


def folder_load_kwargs(folder: Path, index: Mapping[str, Any]) -> dict[str, Any]:
    """What `from_pretrained` must be told about a folder without T5 (saved
    with text_encoder_3=None, or with the folder deleted to save 9 GB)."""
    if has_t5(index) and (folder / "text_encoder_3").is_dir():
        return {}
    return {"text_encoder_3": None, "tokenizer_3": None}


def _t5_tokenizer(config_dir: Path, checkpoint: Path):
    """T5's SentencePiece tokenizer from the config folder, beside the file or
    in the Hugging Face cache, else the one Artstudio ships; None without any."""
    from transformers import T5TokenizerFast

    from artstudio.model_files.scan import hf_hub_cache

    candidates = [config_dir / "tokenizer_3", checkpoint.parent / "tokenizer_3",
                  checkpoint.with_suffix("") / "tokenizer_3"]
    hub = hf_hub_cache()
    for pattern in ("models--*--t5-v1_1-xxl/snapshots/*", "models--*--stable-diffusion-3*/"
                    "snapshots/*/tokenizer_3", "models--*--FLUX.1-*/snapshots/*/tokenizer_2"):
        candidates += sorted(hub.glob(pattern))
    for folder in candidates:
        if (folder / "tokenizer.json").is_file() or (folder / "spiece.model").is_file():
            return T5TokenizerFast.from_pretrained(str(folder), local_files_only=True)
    from artstudio.diffusion import text_tokenizers

    return text_tokenizers.load_t5(encoder_config=config_dir / "text_encoder_3")


def assemble_single_file(state: dict, config_dir: Path, index: dict, variant: Variant, dtype,
                         checkpoint: Path) -> dict[str, Any]:
    """The transformer, VAE, the CLIP pair and (when the file has it and its
    tokenizer is at hand) T5 of an all-in-one SD3 file, each built from the
    variant's config folder without asking the hub."""
    from diffusers import AutoencoderKL, SD3Transformer2DModel
    from diffusers.loaders.single_file_utils import (
        create_diffusers_clip_model_from_ldm,
        create_diffusers_t5_model_from_checkpoint,
    )
    from transformers import CLIPTextModelWithProjection, T5EncoderModel

    from artstudio.diffusion.clip_vocab import load_tokenizer

    require_embedded(state, checkpoint, (("VAE", "first_stage_model."), ("CLIP-L", CLIP_L),
                                         ("CLIP-G", CLIP_G)), "SD3", "CLIP encoders and VAE")
    common = {"config": str(config_dir), "local_files_only": True, "torch_dtype": dtype}
    parts: dict[str, Any] = {
        "transformer": SD3Transformer2DModel.from_single_file(state, subfolder="transformer",
                                                              **common),
        "vae": AutoencoderKL.from_single_file(state, subfolder="vae", **common),
    }
    for name, tokenizer in (("text_encoder", "tokenizer"), ("text_encoder_2", "tokenizer_2")):
        parts[name] = create_diffusers_clip_model_from_ldm(
            CLIPTextModelWithProjection, state, subfolder=name, **common)
        parts[tokenizer] = load_tokenizer(config_dir, tokenizer, checkpoint)
    parts["text_encoder_3"] = parts["tokenizer_3"] = None
    if any(k.startswith(T5) for k in state):
        tokenizer_3 = _t5_tokenizer(config_dir, checkpoint)
        if tokenizer_3 is None:
            log.warning("%s: T5's tokenizer (spiece.model or tokenizer.json) was not found "
                        "beside the file or in the Hugging Face cache; generating without T5",
                        checkpoint.name)
        else:
            parts["text_encoder_3"] = create_diffusers_t5_model_from_checkpoint(
                T5EncoderModel, state, subfolder="text_encoder_3", **common)
            parts["tokenizer_3"] = tokenizer_3
    return parts


# ComfyUI's fit of the 16 channels to RGB (comfy/latent_formats.py, class SD3).
SD3_LATENTS = LatentSpace(
    channels=16,
    preview_factors=(
        (-0.0922, -0.0175, 0.0749), (0.0311, 0.0633, 0.0954), (0.1994, 0.0927, 0.0458),
        (0.0856, 0.0339, 0.0902), (0.0587, 0.0272, -0.0496), (-0.0006, 0.1104, 0.0309),
        (0.0978, 0.0306, 0.0427), (-0.0042, 0.1038, 0.1358), (-0.0194, 0.0020, 0.0669),
        (-0.0488, 0.0130, -0.0268), (0.0922, 0.0988, 0.0951), (-0.0278, 0.0524, -0.0542),
        (0.0332, 0.0456, 0.0895), (-0.0069, -0.0030, -0.0810), (-0.0596, -0.0465, -0.0293),
        (-0.1448, -0.1463, -0.1189)),
    preview_bias=(0.2394, 0.2135, 0.1925),
    taesd_names=("taesd3",),
    denoiser_patch=2,
)

SD3 = FamilySpec(
    name="sd3", label="Stable Diffusion 3.5", latent=SD3_LATENTS,
    pipelines={"txt2img": "StableDiffusion3Pipeline",
               "img2img": "StableDiffusion3Img2ImgPipeline",
               "inpaint": "StableDiffusion3InpaintPipeline"},
    variants=(
        Variant("sd35-medium", "sd35-medium", "SD3.5 medium", 1024, prediction=FLOW,
                steps=40, guidance=4.5),
        Variant("sd35-large", "sd35-large", "SD3.5 large", 1024, prediction=FLOW,
                steps=28, guidance=3.5),
        # Distilled to a few steps without guidance (Stability AI's model card: 4 steps, CFG 0).
        Variant("sd35-large-turbo", "sd35-large", "SD3.5 large turbo (4 steps)", 1024,
                prediction=FLOW, steps=4, guidance=0.0),
        Variant("sd3-medium", "sd3-medium", "SD3 medium", 1024, prediction=FLOW,
                steps=28, guidance=7.0),
    ),
    recognise_checkpoint=recognise_checkpoint, recognise_folder=recognise_folder,
    assemble_single_file=assemble_single_file, folder_load_kwargs=folder_load_kwargs,
    denoiser="transformer", default_sampler=SAMPLER, samplers=(SAMPLER,),
    prompt_outputs=("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
                    "negative_pooled_prompt_embeds"),
    # encode_prompt takes the second and third encoders' prompts positionally
    encode_prompt_kwargs={"prompt_2": None, "prompt_3": None},
)
