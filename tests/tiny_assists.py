"""Tiny random transformers models for the assists, in the folder layouts the
artist keeps (config.json, safetensors weights, processor files), with the
tokenizers built locally."""

from __future__ import annotations

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
