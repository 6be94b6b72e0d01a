"""FLUX.1 (dev, schnell, Fill, Kontext): a flow-matching transformer over
packed 2x2 latent patches of a 16-channel VAE, conditioned on CLIP-L and T5.

What is new here: recognising the transformer's tensors (Black Forest Labs'
layout, bare as `flux1-dev.safetensors` or under ComfyUI's
`model.diffusion_model.` beside `text_encoders.*` and `vae.*`), telling the
variants apart (Fill takes 384 input channels, schnell has no guidance
embedder), and assembling a single file into a pipeline. Kontext files carry
the same tensors as dev, so a file is taken as dev unless the artist (or a
config folder beside it) says Kontext.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artstudio.diffusion.families.spec import (
    EDIT,
    FamilySpec,
    FolderConfigs,
    LatentSpace,
    Recognised,
    Variant,
)
from artstudio.engine.errors import UserFacingError

COMFY_PREFIX = "model.diffusion_model."
CLIP_PREFIXES = ("text_encoders.clip_l.transformer.", "cond_stage_model.transformer.")
T5_PREFIXES = ("text_encoders.t5xxl.transformer.",)
VAE_PREFIXES = ("vae.", "first_stage_model.")
PACKED_CHANNELS = 64  # 16 latent channels in 2x2 patches
KONTEXT_NOTE = ("FLUX.1 Kontext files hold the same tensors as FLUX.1 dev: choose the variant "
                "flux-kontext for one.")


def _transformer_prefix(shapes: Mapping[str, Any]) -> str | None:
    for prefix in ("", COMFY_PREFIX):
        if prefix + "double_blocks.0.img_attn.qkv.weight" in shapes and (
                prefix + "img_in.weight") in shapes:
            return prefix
    return None


def recognise_checkpoint(shapes: Mapping[str, tuple[int, ...]]) -> Recognised | None:
    """(kind, prediction, notes) from a FLUX.1 transformer's tensors; None for
    other files."""
    prefix = _transformer_prefix(shapes)
    if prefix is None:
        return None
    notes: list[str] = []
    img_in = shapes[prefix + "img_in.weight"]
    in_channels = img_in[1] if len(img_in) == 2 else 0
    guided = prefix + "guidance_in.in_layer.weight" in shapes
    if in_channels == PACKED_CHANNELS * 6:  # latents, masked picture latents, 8x8 mask
        kind = "flux-fill"
    elif in_channels == PACKED_CHANNELS * 2:
        notes.append("a FLUX.1 Depth or Canny control model, not supported yet")
        return "unknown", "", notes
    elif in_channels != PACKED_CHANNELS:
        notes.append(f"a FLUX transformer with {in_channels} input channels, not supported")
        return "unknown", "", notes
    else:
        kind = "flux-dev" if guided else "flux-schnell"
    has = lambda prefixes: any(k.startswith(prefixes) for k in shapes)  # noqa: E731
    if not has(CLIP_PREFIXES) or not has(T5_PREFIXES):
        notes.append("no text encoders inside the file")
    if not has(VAE_PREFIXES):
        notes.append("no VAE inside the file")
    if kind == "flux-dev":
        notes.append(KONTEXT_NOTE)
    return kind, "flow", notes


_FOLDER_KINDS = {"FluxFillPipeline": "flux-fill", "FluxKontextPipeline": "flux-kontext",
                 "FluxKontextInpaintPipeline": "flux-kontext"}


def recognise_folder(configs: FolderConfigs) -> Recognised | None:
    """(kind, prediction, notes) from a diffusers folder with a FLUX.1
    transformer; None for other folders."""
    transformer = configs.component("transformer")
    cls = str(configs.index.get("_class_name", ""))
    if transformer.get("_class_name") != "FluxTransformer2DModel" and not cls.startswith("Flux"):
        return None
    if cls.startswith("Flux2") or transformer.get("_class_name", "").startswith("Flux2"):
        return None  # FLUX.2 is another family
    in_channels = transformer.get("in_channels", PACKED_CHANNELS)
    if cls in _FOLDER_KINDS:
        return _FOLDER_KINDS[cls], "flow", []
    if in_channels == PACKED_CHANNELS * 6:
        return "flux-fill", "flow", []
    if in_channels != PACKED_CHANNELS:
        return "unknown", "", [f"{cls} with {in_channels} input channels is not supported"]
    if not transformer.get("guidance_embeds", True):
        return "flux-schnell", "flow", []
    return "flux-dev", "flow", []


# ---- single files --------------------------------------------------------------

# Black Forest Labs' tensor names -> diffusers' (the parts that only move).
_TOP = {"time_in.in_layer": "time_text_embed.timestep_embedder.linear_1",
        "time_in.out_layer": "time_text_embed.timestep_embedder.linear_2",
        "vector_in.in_layer": "time_text_embed.text_embedder.linear_1",
        "vector_in.out_layer": "time_text_embed.text_embedder.linear_2",
        "guidance_in.in_layer": "time_text_embed.guidance_embedder.linear_1",
        "guidance_in.out_layer": "time_text_embed.guidance_embedder.linear_2",
        "txt_in": "context_embedder", "img_in": "x_embedder",
        "final_layer.linear": "proj_out"}
_DOUBLE = {"img_mod.lin": "norm1.linear", "txt_mod.lin": "norm1_context.linear",
           "img_attn.norm.query_norm.scale": "attn.norm_q.weight",
           "img_attn.norm.key_norm.scale": "attn.norm_k.weight",
           "txt_attn.norm.query_norm.scale": "attn.norm_added_q.weight",
           "txt_attn.norm.key_norm.scale": "attn.norm_added_k.weight",
           "img_mlp.0": "ff.net.0.proj", "img_mlp.2": "ff.net.2",
           "txt_mlp.0": "ff_context.net.0.proj", "txt_mlp.2": "ff_context.net.2",
           "img_attn.proj": "attn.to_out.0", "txt_attn.proj": "attn.to_add_out"}
_DOUBLE_QKV = {"img_attn.qkv": ("attn.to_q", "attn.to_k", "attn.to_v"),
               "txt_attn.qkv": ("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj")}
_SINGLE = {"modulation.lin": "norm.linear", "norm.query_norm.scale": "attn.norm_q.weight",
           "norm.key_norm.scale": "attn.norm_k.weight", "linear2": "proj_out"}
_SINGLE_LINEAR1 = ("attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp")
_FINAL_MOD = ("final_layer.adaLN_modulation.1", "norm_out.linear")


def _rename(rest: str, table: Mapping[str, str]) -> str | None:
    for old, new in table.items():
        if rest == old or rest.startswith(old + "."):
            return new + rest[len(old):]
    return None


def transformer_to_diffusers(state: Mapping[str, Any]) -> dict[str, Any]:
    """A BFL-layout FLUX.1 transformer's tensors under diffusers' names, for
    any width (diffusers' own converter assumes the full-size 3072): the fused
    q/k/v (and single blocks' q/k/v/MLP) projections are split by the width
    that img_in gives, and the final modulation's shift/scale halves swap."""
    import torch

    inner = state["img_in.weight"].shape[0]
    out: dict[str, Any] = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] in ("double_blocks", "single_blocks"):
            block, rest = parts[1], ".".join(parts[2:])
            double = parts[0] == "double_blocks"
            prefix = f"{'transformer_blocks' if double else 'single_transformer_blocks'}.{block}."
            fused, kind = rest.rsplit(".", 1)
            if double and fused in _DOUBLE_QKV:
                for name, piece in zip(_DOUBLE_QKV[fused], torch.chunk(value, 3), strict=True):
                    out[f"{prefix}{name}.{kind}"] = piece
                continue
            if not double and fused == "linear1":
                sizes = (inner, inner, inner, value.shape[0] - 3 * inner)
                for name, piece in zip(_SINGLE_LINEAR1, torch.split(value, sizes), strict=True):
                    out[f"{prefix}{name}.{kind}"] = piece
                continue
            new = _rename(rest, _DOUBLE if double else _SINGLE)
            if new is None:
                raise KeyError(f"unexpected FLUX tensor {key}")
            out[prefix + new] = value
        elif key.startswith(_FINAL_MOD[0] + "."):
            shift, scale = value.chunk(2, dim=0)
            out[_FINAL_MOD[1] + key[len(_FINAL_MOD[0]):]] = torch.cat([scale, shift])
        else:
            new = _rename(key, _TOP)
            if new is None:
                raise KeyError(f"unexpected FLUX tensor {key}")
            out[new] = value
    return out


def _under(state: Mapping[str, Any], prefixes: tuple[str, ...]) -> dict[str, Any]:
    for prefix in prefixes:
        part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if part:
            return part
    return {}


def _text_model(cls, config_dir: Path, subfolder: str, weights: dict, dtype):
    """A transformers text encoder from its config, its weights assigned
    without a random initialisation first (T5-XXL is 4.7 billion numbers)."""
    from accelerate import init_empty_weights

    config = cls.config_class.from_pretrained(str(config_dir / subfolder), local_files_only=True)
    with init_empty_weights():
        model = cls(config)
    wanted = set(model.state_dict())
    # CLIP files keep a text_model. level that transformers 5's models may not have.
    level = "text_model." if any(k.startswith("text_model.") for k in wanted) else ""
    if not any(k in wanted for k in weights):
        weights = {level + k.removeprefix("text_model."): v for k, v in weights.items()}
    if "shared.weight" in wanted and "shared.weight" not in weights and (
            "encoder.embed_tokens.weight" in weights):  # T5's input embedding, stored once
        weights["shared.weight"] = weights["encoder.embed_tokens.weight"]
    weights = {k: v for k, v in weights.items() if k in wanted}
    tied = {"encoder.embed_tokens.weight"} if "shared.weight" in weights else set()
    missing = wanted - set(weights) - tied
    if missing:
        raise KeyError(f"{subfolder} lacks {sorted(missing)[0]} and {len(missing) - 1} more")
    model.load_state_dict(weights, strict=False, assign=True)
    if tied:
        model.encoder.embed_tokens = model.shared
    return model.to(dtype).eval()


def assemble_single_file(state: dict, config_dir: Path, index: dict, variant: Variant, dtype,
                         checkpoint: Path) -> dict[str, Any]:
    """The transformer, VAE, text encoders and tokenizers of an all-in-one
    FLUX.1 file, each built from the variant's config folder."""
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from transformers import CLIPTextModel, T5EncoderModel

    from artstudio.diffusion.clip_vocab import load_tokenizer

    prefix = _transformer_prefix(state) or ""
    clip, t5, vae = (_under(state, p) for p in (CLIP_PREFIXES, T5_PREFIXES, VAE_PREFIXES))
    missing = [name for name, part in (("CLIP-L text encoder", clip), ("T5 text encoder", t5),
                                       ("VAE", vae)) if not part]
    if missing:
        raise UserFacingError(f"{checkpoint.name} holds the FLUX transformer alone (no "
                              f"{', no '.join(missing)} inside); choose an all-in-one file.")
    weights = transformer_to_diffusers(
        {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if prefix else {k: v for k, v in state.items()
                        if not k.startswith(CLIP_PREFIXES + T5_PREFIXES + VAE_PREFIXES)})
    from accelerate import init_empty_weights

    with init_empty_weights():  # 12 billion numbers: never allocate them twice
        transformer = FluxTransformer2DModel.from_config(
            FluxTransformer2DModel.load_config(str(config_dir), subfolder="transformer"))
    transformer.load_state_dict(weights, strict=True, assign=True)
    common = {"config": str(config_dir), "local_files_only": True, "dtype": dtype}
    return {
        "transformer": transformer.to(dtype),
        "vae": AutoencoderKL.from_single_file(vae, subfolder="vae", **common),
        "text_encoder": _text_model(CLIPTextModel, config_dir, "text_encoder", clip, dtype),
        "text_encoder_2": _text_model(T5EncoderModel, config_dir, "text_encoder_2", t5, dtype),
        "tokenizer": load_tokenizer(config_dir, "tokenizer", checkpoint),
        "tokenizer_2": load_t5_tokenizer(config_dir, checkpoint),
    }


T5_VOCAB_FILES = ("spiece.model", "tokenizer.json")
# Hugging Face repositories whose snapshot carries FLUX.1's T5 tokenizer, and where in it.
T5_CACHE_REPOS = (("black-forest-labs/FLUX.1-dev", "tokenizer_2"),
                  ("black-forest-labs/FLUX.1-schnell", "tokenizer_2"),
                  ("black-forest-labs/FLUX.1-Fill-dev", "tokenizer_2"),
                  ("black-forest-labs/FLUX.1-Kontext-dev", "tokenizer_2"),
                  ("google/t5-v1_1-xxl", ""))


def _t5_folders(config_dir: Path, checkpoint: Path) -> list[Path]:
    from huggingface_hub.constants import HF_HUB_CACHE

    folders = [config_dir / "tokenizer_2", checkpoint.with_suffix("") / "tokenizer_2"]
    for repo, sub in T5_CACHE_REPOS:
        snapshots = Path(HF_HUB_CACHE) / f"models--{repo.replace('/', '--')}" / "snapshots"
        folders += [s / sub if sub else s for s in sorted(snapshots.glob("*"))]
    return folders


def load_t5_tokenizer(config_dir: Path, checkpoint: Path):
    """FLUX.1's T5 tokenizer from the first folder holding its vocabulary: the
    config folder, one beside the checkpoint, a Hugging Face cache snapshot,
    else the one Artstudio ships (text_tokenizers)."""
    from transformers import T5TokenizerFast

    from artstudio.diffusion import text_tokenizers

    folders = _t5_folders(config_dir, checkpoint)
    for folder in folders:
        if any((folder / name).is_file() for name in T5_VOCAB_FILES):
            return T5TokenizerFast.from_pretrained(str(folder), local_files_only=True)
    shipped = text_tokenizers.load_t5(encoder_config=config_dir / "text_encoder_2")
    if shipped is not None:
        return shipped
    raise UserFacingError(
        f"{checkpoint.name} needs the T5 tokenizer (tokenizer_2/spiece.model or "
        f"tokenizer.json), found in none of: {', '.join(str(f) for f in folders[:2])} or the "
        "Hugging Face cache (black-forest-labs/FLUX.1-dev), and the one Artstudio ships does "
        "not fit this file's T5. Put the tokenizer_2 folder of a "
        f"FLUX.1 diffusers download in {checkpoint.with_suffix('').name}/ beside the file.")


# ComfyUI's fit of FLUX.1's 16 latent channels to RGB (comfy/latent_formats.py, Flux).
FLUX_LATENTS = LatentSpace(
    channels=16,
    preview_factors=((-0.0346, 0.0244, 0.0681), (0.0034, 0.0210, 0.0687),
                     (0.0275, -0.0668, -0.0433), (-0.0174, 0.0160, 0.0617),
                     (0.0859, 0.0721, 0.0329), (0.0004, 0.0383, 0.0115),
                     (0.0405, 0.0861, 0.0915), (-0.0236, -0.0185, -0.0259),
                     (-0.0245, 0.0250, 0.1180), (0.1008, 0.0755, -0.0421),
                     (-0.0515, 0.0201, 0.0011), (0.0428, -0.0012, -0.0036),
                     (0.0817, 0.0765, 0.0749), (-0.1264, -0.0522, -0.1103),
                     (-0.0280, -0.0881, -0.0499), (-0.1262, -0.0982, -0.0778)),
    preview_bias=(-0.0329, -0.0718, -0.0851),
    taesd_names=("taef1",),
    patch=2,
)

FLUX = FamilySpec(
    name="flux", label="FLUX.1", latent=FLUX_LATENTS,
    pipelines={"txt2img": "FluxPipeline", "img2img": "FluxImg2ImgPipeline",
               "inpaint": "FluxInpaintPipeline"},
    variants=(
        Variant("flux-dev", "flux-dev", "dev (guidance-distilled)", 1024, prediction="flow",
                steps=28, guidance=3.5),
        Variant("flux-schnell", "flux-schnell", "schnell (4 steps)", 1024, prediction="flow",
                steps=4, guidance=0.0),
        Variant("flux-fill", "flux-fill", "Fill (inpainting and outpainting)", 1024,
                prediction="flow", inpaint=True, pipeline="FluxFillPipeline", steps=28,
                guidance=30.0),
        Variant("flux-kontext", "flux-kontext", "Kontext (edits by instruction)", 1024,
                prediction="flow", modes=("txt2img", EDIT), pipeline="FluxKontextPipeline",
                steps=28, guidance=2.5,
                only_note="FLUX.1 Kontext makes pictures from a prompt, or edits one by an "
                          "instruction (Edit)."),
    ),
    recognise_checkpoint=recognise_checkpoint, recognise_folder=recognise_folder,
    assemble_single_file=assemble_single_file,
    denoiser="transformer", default_sampler="flow_euler", samplers=("flow_euler",),
    negative_prompt=False, guidance="distilled",
    prompt_outputs=("prompt_embeds", "pooled_prompt_embeds", ""),
)
