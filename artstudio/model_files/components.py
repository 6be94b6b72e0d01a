"""Telling split model parts apart by their tensors: diffusion models, text
encoders and VAEs as ComfyUI keeps them in separate files.

Only names and shapes from the header decide (never a file name, never a
weight read). The markers are those ComfyUI (comfy/sd.py `detect_te_model`,
comfy/model_detection.py) and diffusers (loaders/single_file_utils.py
`infer_diffusers_model_type`) use on the same files:

* FLUX.1 in Black Forest Labs' layout (`double_blocks.0.img_attn.norm.key_norm.scale`,
  optionally under `model.diffusion_model.`) or diffusers' (`single_transformer_blocks.`):
  a guidance embedder (`guidance_in.`) marks dev, its absence schnell; an image input
  384 wide marks Fill (64 latent + 64 masked-image + 256 mask channels), 128 wide
  Depth. Kontext has exactly dev's tensors, so the artist says which.
* FLUX.2 (`single_stream_modulation.lin.weight`): with a guidance embedder or a text
  input 15360 wide (three Mistral layers) the dev model, else Klein (Qwen3 encoder).
* SD3 / SD3.5 MMDiT (`joint_blocks.N.context_block.adaLN_modulation.1.bias`): a second
  attention in the image blocks (`x_block.attn2`) marks 3.5 medium, 38 blocks 3.5 large
  (large and large turbo share their tensors), else SD3 medium.
* Z-Image (`layers.N.adaLN_modulation.0.weight` with `noise_refiner.` and `cap_embedder.`).
* Text encoders: CLIP by its layer count (32 CLIP-G / OpenCLIP bigG, 24 CLIP-H, else
  CLIP-L), with or without transformers' `text_model.` prefix; T5 by its gated
  feed-forward (`encoder.block.N.layer.1.DenseReluDense.wi_1.weight`); Qwen3 by its
  query norm (`self_attn.q_norm`), Qwen2.5 by its attention biases.
* VAEs: an encoder (`encoder.down.` or `encoder.down_blocks.`) and a decoder whose
  input convolution's width is the latent channel count: 4 (SD, SDXL), 16 (FLUX.1's
  `ae`, SD3 and Z-Image share one shape, which the tensors cannot tell apart) or 32
  (FLUX.2, with its latent batch norm `bn.`).

Each part also carries the widths it joins at (a text encoder's hidden size, a
diffusion model's text input width, latent channels), so parts of different
models are refused by shape, which works on the tests' tiny files as on real ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

DEV_OR_KONTEXT = "FLUX.1 dev and Kontext have the same tensors: say which it is"

DIFFUSION = "diffusion-model"
TEXT_ENCODER = "text-encoder"
VAE = "vae"

Shapes = Mapping[str, tuple[int, ...]]

# Encoder kinds, as the families name their slots.
CLIP_L, CLIP_G, CLIP_H, T5, QWEN3, QWEN25, LLM = (
    "clip-l", "clip-g", "clip-h", "t5", "qwen3", "qwen2.5", "llm")
ENCODER_LABELS = {
    CLIP_L: "CLIP-L", CLIP_G: "CLIP-G (OpenCLIP bigG)", CLIP_H: "CLIP-H (OpenCLIP ViT-H)",
    T5: "T5-XXL", QWEN3: "Qwen3", QWEN25: "Qwen2.5", LLM: "Llama/Mistral-type language model",
}
# The prefixes under which an all-in-one file embeds its parts (SD3's, FLUX's, Z-Image's).
EMBEDDED_ENCODERS = {"text_encoders.clip_l.": CLIP_L, "text_encoders.clip_g.": CLIP_G,
                     "text_encoders.t5xxl.": T5, "text_encoders.qwen3_4b.": QWEN3}
EMBEDDED_VAE = ("first_stage_model.", "vae.")


@dataclass(frozen=True)
class Slot:
    """A place a part fills: an encoder kind or "vae", and the width it must have
    (a text encoder's hidden size, a VAE's latent channels); 0 when any width fits."""

    kind: str
    width: int = 0
    optional: bool = False

    def describe(self) -> str:
        if self.kind == VAE:
            return f"{self.width}-channel VAE" if self.width else "VAE"
        return f"{ENCODER_LABELS.get(self.kind, self.kind)} text encoder"


@dataclass(frozen=True)
class Part:
    role: str  # DIFFUSION, TEXT_ENCODER or VAE
    kind: str  # "flux-dev", "clip-l", "t5", "vae" ...
    label: str  # for the artist: "FLUX.1 dev", "T5-XXL text encoder", "16-channel VAE"
    family: str = ""  # diffusion models: "flux", "sd3", "z-image", "flux2"
    width: int = 0  # encoders: hidden size; VAEs: latent channels
    variants: tuple[str, ...] = ()  # diffusion models whose tensors fit several variants
    needs: tuple[Slot, ...] = ()  # diffusion models: the parts it takes, in pipeline order
    inside: tuple[str, ...] = ()  # diffusion models: slot kinds embedded in the same file
    notes: tuple[str, ...] = ()

    def fits(self, slot: Slot) -> bool:
        if slot.kind == VAE:
            return self.role == VAE and (not slot.width or not self.width
                                         or slot.width == self.width)
        return (self.role == TEXT_ENCODER and self.kind == slot.kind
                and (not slot.width or not self.width or slot.width == self.width))

    @property
    def missing_slots(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.needs if s.kind not in self.inside)


# ---- helpers over shapes ----------------------------------------------------------

_DIFFUSION_PREFIX = "model.diffusion_model."


def _strip(shapes: Shapes, prefix: str) -> dict[str, tuple[int, ...]]:
    if not any(k.startswith(prefix) for k in shapes):
        return dict(shapes)
    return {k[len(prefix):]: v for k, v in shapes.items() if k.startswith(prefix)}


def _in_width(shapes: Shapes, *keys: str) -> int:
    """The input width of the first linear layer found (weight [out, in])."""
    for key in keys:
        shape = shapes.get(key)
        if shape and len(shape) >= 2:
            return int(shape[1])
    return 0


def _out_width(shapes: Shapes, *keys: str) -> int:
    for key in keys:
        shape = shapes.get(key)
        if shape:
            return int(shape[0])
    return 0


def _count(shapes: Shapes, pattern: str) -> int:
    """How many numbered blocks match `pattern` (a regex with one (\\d+) group)."""
    found = re.compile(pattern)
    numbers = {int(m.group(1)) for k in shapes if (m := found.match(k))}
    return max(numbers) + 1 if numbers else 0


def _latent_channels(out_features: int) -> int:
    """Every family here patchifies 2x2, so its output width is 4x the latent channels."""
    return out_features // 4 if out_features and out_features % 4 == 0 else 0


def _embedded(shapes: Shapes) -> tuple[str, ...]:
    inside = [kind for prefix, kind in EMBEDDED_ENCODERS.items()
              if any(k.startswith(prefix) for k in shapes)]
    if any(k.startswith(EMBEDDED_VAE) for k in shapes):
        inside.append(VAE)
    return tuple(inside)


# ---- diffusion models -------------------------------------------------------------

def _flux1(s: Shapes, inside: tuple[str, ...]) -> Part | None:
    bfl = "double_blocks.0.img_attn.norm.key_norm.scale" in s
    diffusers = ("single_transformer_blocks.0.attn.to_q.weight" in s
                 and "x_embedder.weight" in s and "context_embedder.weight" in s)
    if not (bfl or diffusers):
        return None
    guidance = any(k.startswith(("guidance_in.", "time_text_embed.guidance_embedder."))
                   for k in s)
    image_in = _in_width(s, "img_in.weight", "x_embedder.weight")
    text_in = _in_width(s, "txt_in.weight", "context_embedder.weight")
    pooled_in = _in_width(s, "vector_in.in_layer.weight",
                          "time_text_embed.text_embedder.linear_1.weight")
    channels = _latent_channels(_out_width(s, "final_layer.linear.weight", "proj_out.weight"))
    notes: list[str] = []
    variants: tuple[str, ...] = ()
    if not guidance:
        kind, label = "flux-schnell", "FLUX.1 schnell"
    elif image_in == 384:
        kind, label = "flux-fill", "FLUX.1 Fill"
    elif image_in == 128:
        kind, label = "flux-depth", "FLUX.1 Depth"
        notes.append("FLUX.1 Depth (control by a depth map) is not supported")
    else:
        kind, label = "flux-dev", "FLUX.1 dev"
        variants = ("flux-dev", "flux-kontext")
        notes.append(DEV_OR_KONTEXT)
    needs = (Slot(CLIP_L, pooled_in), Slot(T5, text_in), Slot(VAE, channels))
    return Part(DIFFUSION, kind, label, "flux", variants=variants, needs=needs,
                inside=inside, notes=tuple(notes))


def _flux2(s: Shapes, inside: tuple[str, ...]) -> Part | None:
    if not ("single_stream_modulation.lin.weight" in s
            or "single_stream_modulation.linear.weight" in s):
        return None
    guidance = any(k.startswith(("guidance_in.", "time_guidance_embed.guidance_embedder."))
                   for k in s)
    text_in = _in_width(s, "txt_in.weight", "context_embedder.weight")
    channels = _latent_channels(_out_width(s, "final_layer.linear.weight", "proj_out.weight"))
    if guidance or text_in == 3 * 5120:  # dev reads three of Mistral Small's 5120-wide layers
        return Part(DIFFUSION, "flux2-dev", "FLUX.2 dev", "flux2",
                    needs=(Slot(LLM), Slot(VAE, channels)), inside=inside,
                    notes=("FLUX.2 dev (with its Mistral text encoder) is not supported; "
                           "FLUX.2 Klein is",))
    # Klein feeds the transformer three of Qwen3's hidden layers side by side.
    width = text_in // 3 if text_in % 3 == 0 else 0
    return Part(DIFFUSION, "flux2-klein", "FLUX.2 Klein", "flux2",
                needs=(Slot(QWEN3, width), Slot(VAE, channels)), inside=inside)


def _sd3(s: Shapes, inside: tuple[str, ...]) -> Part | None:
    original = "joint_blocks.0.context_block.adaLN_modulation.1.bias" in s
    diffusers = ("transformer_blocks.0.norm1_context.linear.weight" in s
                 and "pos_embed.proj.weight" in s
                 and not any(k.startswith("single_transformer_blocks.") for k in s))
    if not (original or diffusers):
        return None
    if original:
        depth = _count(s, r"^joint_blocks\.(\d+)\.")
        attn2 = any(re.match(r"^joint_blocks\.\d+\.x_block\.attn2\.", k) for k in s)
    else:
        depth = _count(s, r"^transformer_blocks\.(\d+)\.")
        attn2 = any(re.match(r"^transformer_blocks\.\d+\.attn2\.", k) for k in s)
    text_in = _in_width(s, "context_embedder.weight")
    channels = _latent_channels(_out_width(s, "final_layer.linear.weight", "proj_out.weight"))
    variants: tuple[str, ...] = ()
    if attn2:
        kind, label = "sd35-medium", "SD3.5 medium"
    elif depth >= 38:
        kind, label = "sd35-large", "SD3.5 large"
        variants = ("sd35-large", "sd35-large-turbo")
    else:
        kind, label = "sd3-medium", "SD3 medium"
    needs = (Slot(CLIP_L), Slot(CLIP_G), Slot(T5, text_in, optional=True), Slot(VAE, channels))
    notes = ("SD3.5 large and large turbo have the same tensors: say which it is",) \
        if variants else ()
    return Part(DIFFUSION, kind, label, "sd3", variants=variants, needs=needs,
                inside=inside, notes=notes)


def _z_image(s: Shapes, inside: tuple[str, ...]) -> Part | None:
    if not ("layers.0.adaLN_modulation.0.weight" in s
            and any(k.startswith("noise_refiner.") for k in s)
            and any(k.startswith("cap_embedder.") for k in s)):
        return None
    text_in = _in_width(s, "cap_embedder.1.weight")
    channels = _latent_channels(_out_width(
        s, "final_layer.linear.weight", "all_final_layer.2-1.linear.weight"))
    return Part(DIFFUSION, "z-image-turbo", "Z-Image", "z-image",
                needs=(Slot(QWEN3, text_in), Slot(VAE, channels)), inside=inside)


_DIFFUSION_RECOGNISERS = (_flux2, _flux1, _sd3, _z_image)  # FLUX.2 also has double_blocks


# ---- text encoders and VAEs -------------------------------------------------------

def _text_encoder(s: Shapes) -> Part | None:
    clip = _strip(s, "text_model.")
    layers = _count(clip, r"^encoder\.layers\.(\d+)\.mlp\.fc1\.weight$")
    open_clip = _count(s, r"^transformer\.resblocks\.(\d+)\.mlp\.c_fc\.weight$")
    if layers or open_clip:
        count = layers or open_clip
        kind = CLIP_G if count >= 31 else CLIP_H if count >= 23 else CLIP_L
        width = _in_width(clip, "encoder.layers.0.mlp.fc1.weight") or _in_width(
            s, "transformer.resblocks.0.mlp.c_fc.weight")
        return Part(TEXT_ENCODER, kind, f"{ENCODER_LABELS[kind]} text encoder", width=width)
    if _count(s, r"^encoder\.block\.(\d+)\.layer\.1\.DenseReluDense\.wi_1\.weight$"):
        width = _in_width(s, "encoder.block.0.layer.1.DenseReluDense.wi_1.weight")
        notes = ("a whole T5 with its decoder; only the encoder is used",) if any(
            k.startswith("decoder.block.") for k in s) else ()
        label = "T5-XXL text encoder" if width == 4096 else "T5 text encoder"
        return Part(TEXT_ENCODER, T5, label, width=width, notes=notes)
    llm = _strip(s, "model.")
    if "layers.0.post_attention_layernorm.weight" in llm:
        width = _out_width(llm, "layers.0.post_attention_layernorm.weight")
        if "layers.0.post_feedforward_layernorm.weight" in llm:
            kind = LLM  # Gemma, which no family here uses
        elif "layers.0.self_attn.q_norm.weight" in llm:
            kind = QWEN3
        elif "layers.0.self_attn.k_proj.bias" in llm:
            kind = QWEN25
        else:
            kind = LLM
        return Part(TEXT_ENCODER, kind, f"{ENCODER_LABELS[kind]} text encoder", width=width)
    return None


def _vae(s: Shapes) -> Part | None:
    for prefix in EMBEDDED_VAE:
        s = _strip(s, prefix)
    if "decoder.conv_in.weight" not in s or not any(
            k.startswith(("encoder.down.", "encoder.down_blocks.")) for k in s):
        return None
    channels = _in_width(s, "decoder.conv_in.weight")
    users = {4: "SD 1.x, 2.x and SDXL", 16: "FLUX.1, SD3 and Z-Image", 32: "FLUX.2"}
    note = (f"the VAE of {users[channels]}",) if channels in users else ()
    return Part(VAE, VAE, f"{channels}-channel VAE", width=channels, notes=note)


def recognise_part(shapes: Shapes) -> Part | None:
    """What part a file is, from its tensor names and shapes; None when it is
    none of the parts a split model is assembled from (an SD checkpoint, an
    upscaler, a LoRA...)."""
    inside = _embedded(shapes)
    bare = _strip(shapes, _DIFFUSION_PREFIX)
    for recognise in _DIFFUSION_RECOGNISERS:
        part = recognise(bare, inside)
        if part is not None:
            return part
    if any(k.startswith(_DIFFUSION_PREFIX) for k in shapes):
        return None  # an SD UNet checkpoint: the family registry knows those
    return _text_encoder(shapes) or _vae(shapes)
