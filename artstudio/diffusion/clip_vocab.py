"""The CLIP tokenizer vocabulary, built offline from the BPE merges we ship.

Single-file checkpoints carry no tokenizer, and the hub cannot be reached.
Every Stable Diffusion family (SD1's CLIP ViT-L, SD2's and SDXL's OpenCLIP)
uses the same 49,408-token byte-level BPE vocabulary that CLIP's original
`bpe_simple_vocab_16e6.txt.gz` defines (artstudio/data/clip_bpe, MIT licence). The
vocabulary is its 512 byte symbols, the merges and the two special tokens, in
CLIP's own order; we write it once as the vocab.json + merges.txt pair that
transformers' CLIPTokenizer reads.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from artstudio import paths
from artstudio.engine.errors import UserFacingError
from artstudio.model_files.scan import hf_hub_cache
from artstudio.resources import data_folder

MERGES = 49152 - 256 - 2  # CLIP keeps the first 48,894 merges
BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"


def shipped_bpe() -> Path:
    return data_folder("clip_bpe") / BPE_FILE


def byte_symbols() -> list[str]:
    """CLIP/GPT-2's printable stand-ins for the 256 byte values, in vocab order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def build_vocab(bpe_file: Path, folder: Path) -> Path:
    """Write vocab.json and merges.txt for CLIPTokenizer into `folder`."""
    lines = gzip.decompress(bpe_file.read_bytes()).decode("utf-8").split("\n")
    merges = lines[1:MERGES + 1]
    symbols = byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols]
    tokens += ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("merges.txt", "#version: 0.2\n" + "\n".join(merges) + "\n"),
                       ("vocab.json", json.dumps({t: i for i, t in enumerate(tokens)}))):
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / name)
    return folder


def bundled_clip_vocab() -> Path | None:
    """The vocabulary folder in the data folder, built on first use; None when
    the shipped merges are missing or the data folder is not writable."""
    folder = paths.data_dir() / "clip-tokenizer"
    if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        return folder
    source = shipped_bpe()
    if not source.is_file():
        return None
    try:
        return build_vocab(source, folder)
    except OSError:
        return None


# ---- finding a vocabulary for a checkpoint ------------------------------------------

def _has_vocab(folder: Path) -> bool:
    return (folder / "tokenizer.json").is_file() or (
        (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file())


def find_clip_vocab(checkpoint: Path | None = None) -> Path | None:
    """A folder with the CLIP BPE vocabulary (the same 49408 tokens serve SD1,
    SD2 and both SDXL encoders): beside the checkpoint, else the HF cache,
    else the one built from the merges Artstudio ships."""
    candidates: list[Path] = []
    if checkpoint is not None:
        candidates += [checkpoint.parent / "tokenizer", checkpoint.with_suffix("") / "tokenizer"]
    hub = hf_hub_cache()
    for repo in ("models--openai--clip-vit-large-patch14",
                 "models--laion--CLIP-ViT-bigG-14-laion2B-39B-b160k"):
        candidates += sorted((hub / repo / "snapshots").glob("*"))
    for snap in sorted(hub.glob("models--*/snapshots/*")):
        candidates += [snap / "tokenizer", snap / "tokenizer_2"]
    found = next((c for c in candidates if c.is_dir() and _has_vocab(c)), None)
    return found or bundled_clip_vocab()


def load_tokenizer(config_dir: Path, subfolder: str, checkpoint: Path | None):
    """The tokenizer from the config folder when it has a vocabulary, else the
    shared CLIP vocabulary with this variant's settings (pad token!)."""
    from transformers import CLIPTokenizer

    own = config_dir / subfolder
    if _has_vocab(own):
        return CLIPTokenizer.from_pretrained(str(own), local_files_only=True)
    vocab = find_clip_vocab(checkpoint)
    if vocab is None:
        raise UserFacingError(
            "The CLIP tokenizer files (vocab.json and merges.txt) were not found. Artstudio "
            "cannot download them. Put a 'tokenizer' folder with those files beside the "
            "checkpoint, or copy any Stable Diffusion model in diffusers format (it has a "
            "tokenizer folder) or openai/clip-vit-large-patch14 into the Hugging Face cache.")
    settings = json.loads((own / "tokenizer_config.json").read_text(encoding="utf-8"))
    return CLIPTokenizer.from_pretrained(
        str(vocab), local_files_only=True, pad_token=settings.get("pad_token", "<|endoftext|>"),
        model_max_length=settings.get("model_max_length", 77))
