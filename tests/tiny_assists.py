"""Tiny random models for the assists and LoRAs, in the layouts the artist
keeps (transformers folders with config.json, safetensors weights and
processor files; LoRA files), with the tokenizers built locally."""

from __future__ import annotations

import json
from pathlib import Path

from artstudio.selftest.random_models import write_tiny_tokenizer


def save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTextConfig,
        CLIPTokenizer,
        CLIPVisionConfig,
    )

    torch.manual_seed(seed)
    common = dict(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                  num_hidden_layers=2, projection_dim=16)
    text = CLIPTextConfig(vocab_size=1000, max_position_embeddings=77, bos_token_id=0,
                          eos_token_id=2, pad_token_id=1, **common)
    vision = CLIPVisionConfig(image_size=32, patch_size=8, **common)
    model = CLIPModel(CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                                 projection_dim=16))
    folder = Path(folder)
    model.save_pretrained(str(folder), safe_serialization=True)
    tok_dir = write_tiny_tokenizer(folder / "_tokenizer")
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                           crop_size={"height": 32, "width": 32}),
        tokenizer=CLIPTokenizer.from_pretrained(str(tok_dir)))
    processor.save_pretrained(str(folder))
    return folder


WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "the", "painting", "of", "red",
         "fox", "lighthouse", "night", "sea", "blue", "sky", "tree", "house", "cat", "dog", "in",
         "on", "with", "detailed", "soft", "light", "forest", "mountain", "river", "portrait",
         "woman", "man", "city", "street", "rain", "sun", ",", "."]


def word_tokenizer():
    """A whole-word tokenizer over WORDS, built with the tokenizers library."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   bos_token="[CLS]", eos_token="[SEP]")


def save_tiny_captioner(folder: Path, seed: int = 0) -> Path:
    """A tiny random BLIP captioner with its processor."""
    import torch
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
        BlipTextConfig,
        BlipVisionConfig,
    )

    torch.manual_seed(seed)
    text = BlipTextConfig(vocab_size=len(WORDS), hidden_size=32, intermediate_size=37,
                          num_attention_heads=4, num_hidden_layers=2, encoder_hidden_size=32,
                          max_position_embeddings=64, bos_token_id=2, sep_token_id=3,
                          pad_token_id=0)
    vision = BlipVisionConfig(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                              num_hidden_layers=2, image_size=32, patch_size=8)
    model = BlipForConditionalGeneration(BlipConfig(text_config=text.to_dict(),
                                                    vision_config=vision.to_dict()))
    model.save_pretrained(str(folder), safe_serialization=True)
    BlipProcessor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}),
                  tokenizer=word_tokenizer()).save_pretrained(str(folder))
    return Path(folder)


def save_tiny_lm(folder: Path, seed: int = 0) -> Path:
    """A tiny random GPT-2 with the word tokenizer."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(WORDS), n_embd=32, n_layer=2, n_head=4,
                                       n_positions=512, bos_token_id=2, eos_token_id=3,
                                       pad_token_id=0))
    model.save_pretrained(str(folder), safe_serialization=True)
    word_tokenizer().save_pretrained(str(folder))
    return Path(folder)


def random_lora_layers(module, prefix: str, targets: list[str], rank: int = 4) -> dict:
    """Random LoRA weights for `targets` of `module` in diffusers layout
    (`prefix.<layer>.lora_A/B.weight`), made on a copy, so `module` is left as it was."""
    from copy import deepcopy

    import torch
    from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model

    config = LoraConfig(r=rank, lora_alpha=rank, target_modules=targets, init_lora_weights=False)
    copy = inject_adapter_in_model(config, deepcopy(module), adapter_name="make")
    with torch.no_grad():
        for name, p in copy.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # visible at weight 1 on random weights
    layers = get_peft_model_state_dict(copy, adapter_name="make")
    return {f"{prefix}.{k}": v.detach().clone().contiguous() for k, v in layers.items()}


def save_tiny_lora(pipe, folder: Path, rank: int = 4, seed: int = 0,
                   text_encoder: bool = True) -> dict[str, Path]:
    """A random LoRA for a tiny SD1 `pipe` (its UNet attention and, optionally,
    its text encoder) in diffusers layout, and the same weights in kohya /
    A1111 layout: {"diffusers": file, "kohya": file}. Made on copies of the
    modules, so the pipe is left as it was."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state: dict[str, torch.Tensor] = {}
    parts = [("unet", pipe.unet, ["to_q", "to_k", "to_v", "to_out.0"])]
    if text_encoder:
        parts.append(("text_encoder", pipe.text_encoder, ["q_proj", "k_proj", "v_proj",
                                                          "out_proj"]))
    for prefix, module, targets in parts:
        state.update(random_lora_layers(module, prefix, targets, rank))
    diffusers_file = folder / "tiny-lora-diffusers.safetensors"
    save_file(state, str(diffusers_file))
    kohya: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        prefix, rest = key.split(".", 1)
        module, kind = rest.rsplit(".lora_", 1)
        base = ("lora_unet_" if prefix == "unet" else "lora_te_") + module.replace(".", "_")
        kohya[f"{base}.lora_{'down' if kind.startswith('A') else 'up'}.weight"] = value
        kohya[f"{base}.alpha"] = torch.tensor(float(rank))
    kohya_file = folder / "tiny-lora-kohya.safetensors"
    save_file(kohya, str(kohya_file), metadata={
        "ss_tag_frequency": json.dumps({"10_fox": {"red fox": 12, "forest": 3}}),
        "ss_network_module": "networks.lora"})
    return {"diffusers": diffusers_file, "kohya": kohya_file}
