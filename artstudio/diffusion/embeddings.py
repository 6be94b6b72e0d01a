"""Textual-inversion embeddings, used by their file name in the prompt and the
negative prompt as in A1111 (`models/embeddings`), for SD 1.x/2.x and SDXL
(whose files carry one vector set per text encoder, `clip_l` and `clip_g`).
`.safetensors` files, and `.pt` only through the weights-only loader."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from artstudio.engine.errors import UserFacingError
from artstudio.model_files import safe_load

EMBEDDING_SUFFIXES = (".safetensors", ".pt", ".bin")
EMBEDDING_FAMILIES = ("sd1", "sd2", "sdxl")
_LOADED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # pipe -> names added


@dataclass(frozen=True)
class Embedding:
    name: str  # the word that calls it up in a prompt: the file's stem
    path: Path


def embedding_roots(extra: Iterable[str | os.PathLike] = ()) -> list[Path]:
    from artstudio.model_files.other_apps import INSTALLS
    from artstudio.paths import user_models_dir

    roots = [user_models_dir() / "embeddings"]
    home = Path.home()
    for _app, install, _subfolders in INSTALLS:
        roots += [home / install / "embeddings", home / install / "models" / "embeddings"]
    roots += [Path(e) for e in extra]
    return list(dict.fromkeys(r for r in roots if r.is_dir()))


def find_embeddings(roots: Iterable[Path] | None = None) -> dict[str, Embedding]:
    """{name: Embedding} under `roots` (default embedding_roots()); the first
    file of a name wins, as in A1111."""
    found: dict[str, Embedding] = {}
    for root in roots if roots is not None else embedding_roots():
        for path in sorted(Path(root).rglob("*")):
            if path.suffix.lower() in EMBEDDING_SUFFIXES and path.is_file():
                found.setdefault(path.stem, Embedding(path.stem, path))
    return found


def used_in(texts: Iterable[str], known: dict[str, Embedding]) -> list[Embedding]:
    """The known embeddings whose names appear as words in `texts`."""
    words = {w for text in texts for w in re.findall(r"[\w.\-]+", text)}
    return [e for name, e in known.items() if name in words]


def embedding_hash(path: Path) -> str:
    """A1111's `TI hashes` value: sha256 of the whole file, first 10 hex digits."""
    stat = Path(path).stat()
    return _file_hash(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _file_hash(path: str, _size: int, _mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:10]


def read_vectors(embedding: Embedding) -> dict:
    """The file's tensors through the safe loaders (a pickle that needs more
    than weights is refused with the reason)."""
    path = embedding.path
    if path.suffix.lower() == ".safetensors":
        return safe_load.load_state_dict(path)
    state = safe_load.load_pickle_weights_only(path)
    if not isinstance(state, dict):
        raise UserFacingError(f"{path.name} is not a textual-inversion embedding.")
    return state


def load_embeddings(pipe, family: str, embeddings: Iterable[Embedding]) -> list[str]:
    """Add each embedding's token to the pipeline once; returns the names added now."""
    embeddings = list(embeddings)
    if embeddings and family not in EMBEDDING_FAMILIES:
        raise UserFacingError("Textual-inversion embeddings work with Stable Diffusion 1.x, "
                              "2.x and SDXL models only.")
    added = []
    loaded = _LOADED.setdefault(pipe, set())
    for embedding in embeddings:
        if embedding.name in loaded:
            continue
        state = read_vectors(embedding)
        try:
            if family == "sdxl":
                if not {"clip_l", "clip_g"} <= set(state):
                    raise UserFacingError(f"{embedding.path.name} is not an SDXL embedding "
                                          "(it has no clip_l and clip_g vectors).")
                pipe.load_textual_inversion(state["clip_l"], token=embedding.name,
                                            text_encoder=pipe.text_encoder,
                                            tokenizer=pipe.tokenizer)
                pipe.load_textual_inversion(state["clip_g"], token=embedding.name,
                                            text_encoder=pipe.text_encoder_2,
                                            tokenizer=pipe.tokenizer_2)
            else:
                pipe.load_textual_inversion(state, token=embedding.name)
        except (ValueError, KeyError, RuntimeError) as exc:
            raise UserFacingError(f"The embedding {embedding.name} does not fit this model: "
                                  f"{str(exc)[:200]}") from exc
        added.append(embedding.name)
        loaded.add(embedding.name)
    return added
