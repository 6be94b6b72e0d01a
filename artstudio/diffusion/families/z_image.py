"""Z-Image (Turbo): a single-stream transformer conditioned on Qwen3, on
FLUX.1's 16-channel VAE.

Recognised by the two learned padding tokens (`x_pad_token`, `cap_pad_token`)
that set it apart from Lumina-Image 2.0, whose blocks it otherwise shares.
Single files: the transformer in its original layout (fused q/k/v) under
`model.diffusion_model.`, and in ComfyUI's all-in-one checkpoints the VAE
under `first_stage_model.` and Qwen3 under `text_encoders.qwen3_4b.`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from artstudio.diffusion.families.embedded_parts import require_embedded
from artstudio.diffusion.families.flux import FLUX_LATENTS
from artstudio.diffusion.families.spec import (
    FamilySpec,
    FolderConfigs,
    Recognised,
    Variant,
)
from artstudio.engine.errors import UserFacingError

PREFIXES = ("model.diffusion_model.", "")
MARKER = "x_pad_token"
QWEN = "text_encoders.qwen3_4b.transformer."
SAMPLER = "flow_euler"


def recognise_checkpoint(shapes: Mapping[str, tuple[int, ...]]) -> Recognised | None:
    prefix = next((p for p in PREFIXES if p + MARKER in shapes
                   and p + "layers.0.adaLN_modulation.0.weight" in shapes), None)
    if prefix is None:
        return None
    has = lambda p: any(k.startswith(p) for k in shapes)  # noqa: E731
    notes = []
    if not has(QWEN):
        notes.append("no Qwen3 text encoder inside the file")
    if not has("first_stage_model."):
        notes.append("no VAE inside the file")
    return "z-image-turbo", "flow", notes


def recognise_folder(configs: FolderConfigs) -> Recognised | None:
    if configs.component("transformer").get("_class_name") != "ZImageTransformer2DModel":
        return None
    return "z-image-turbo", "flow", []


def _qwen_tokenizer(config_dir: Path, checkpoint: Path):
    """Qwen's byte-level BPE tokenizer from the config folder, a `tokenizer/`
    folder beside the file, the Hugging Face cache (Z-Image or Qwen3
    repositories), else the one Artstudio ships (text_tokenizers)."""
    from transformers import AutoTokenizer

    from artstudio.model_files.scan import hf_hub_cache

    candidates = [config_dir / "tokenizer", checkpoint.parent / "tokenizer",
                  checkpoint.with_suffix("") / "tokenizer"]
    hub = hf_hub_cache()
    for pattern in ("models--*--Z-Image*/snapshots/*/tokenizer",
                    "models--Qwen--Qwen3-4B*/snapshots/*"):
        candidates += sorted(hub.glob(pattern))
    for folder in candidates:
        if (folder / "tokenizer.json").is_file() or (folder / "vocab.json").is_file():
            return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    from artstudio.diffusion import text_tokenizers

    shipped = text_tokenizers.load_qwen(config_dir / "text_encoder")
    if shipped is not None:
        return shipped
    raise UserFacingError(
        "Z-Image's Qwen tokenizer (tokenizer.json) was not found and Artstudio cannot download "
        f"it. Put a 'tokenizer' folder with it beside {checkpoint.name}, or keep the Z-Image "
        "model in the Hugging Face cache.")


def _qwen3(state: dict, config_dir: Path, dtype):
    """Qwen3 from the file's `text_encoders.qwen3_4b.transformer.model.*` keys."""
    from accelerate import init_empty_weights
    from transformers import AutoConfig, Qwen3Model

    config = AutoConfig.from_pretrained(str(config_dir / "text_encoder"), local_files_only=True)
    weights = {}
    for key in [k for k in state if k.startswith(QWEN)]:
        weights[key[len(QWEN):].removeprefix("model.")] = state.pop(key)
    weights.pop("lm_head.weight", None)  # a causal-LM export carries its head; unused here
    with init_empty_weights():
        model = Qwen3Model(config)
    model.load_state_dict(weights, strict=True, assign=True)
    return model.to(dtype).eval()


def assemble_single_file(state: dict, config_dir: Path, index: dict, variant: Variant, dtype,
                         checkpoint: Path) -> dict[str, Any]:
    from diffusers import AutoencoderKL, ZImageTransformer2DModel

    require_embedded(state, checkpoint, (("VAE", "first_stage_model."),
                                         ("Qwen3 text encoder", QWEN)),
                     "Z-Image", "text encoder and VAE")
    common = {"config": str(config_dir), "local_files_only": True, "torch_dtype": dtype}
    tokenizer = _qwen_tokenizer(config_dir, checkpoint)
    # diffusers' Z-Image converter takes every key it is given: hand it the transformer's only
    transformer = {k: state.pop(k) for k in [k for k in state if k.startswith(PREFIXES[0])]}
    return {
        "text_encoder": _qwen3(state, config_dir, dtype),
        "tokenizer": tokenizer,
        "vae": AutoencoderKL.from_single_file(state, subfolder="vae", **common),
        "transformer": ZImageTransformer2DModel.from_single_file(
            transformer, subfolder="transformer", **common),
    }


# FLUX.1's VAE and its preview factors, but the latents stay [B, C, h, w]: the
# transformer cuts them into 2x2 patches itself.
Z_IMAGE_LATENTS = replace(FLUX_LATENTS, patch=1, denoiser_patch=2)

Z_IMAGE = FamilySpec(
    name="z-image", label="Z-Image", latent=Z_IMAGE_LATENTS,
    pipelines={"txt2img": "ZImagePipeline", "img2img": "ZImageImg2ImgPipeline",
               "inpaint": "ZImageInpaintPipeline"},
    # Tongyi-MAI's model card: 9 steps (8 transformer passes), guidance 0 for Turbo.
    variants=(Variant("z-image-turbo", "z-image-turbo", "Z-Image Turbo", 1024, prediction="flow",
                      steps=9, guidance=0.0),),
    recognise_checkpoint=recognise_checkpoint, recognise_folder=recognise_folder,
    assemble_single_file=assemble_single_file, denoiser="transformer",
    default_sampler=SAMPLER, samplers=(SAMPLER,),
)
