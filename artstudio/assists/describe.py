"""Image to prompt: a caption from a local image-to-text model (BLIP,
Florence-2, GIT...), optionally as comma-separated tags for anime-family
models. The result fills the prompt box; the artist edits it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from artstudio.assists.local_models import CAPTIONER, resolve
from artstudio.assists.text_models import TextModel
from artstudio.engine.errors import UserFacingError

CAPTION_TOKENS = 40
_ARTICLES = {"a", "an", "the"}
_JOINS = re.compile(r",|\band\b|\bwith\b|\bin\b|\bon\b|\bof\b|\bat\b|\bnear\b|\.")


def load_captioner(path: str | os.PathLike | None = None, device: str = "cpu") -> TextModel:
    return TextModel.load(CAPTIONER, "AutoModelForImageTextToText", path, device)


def describe(captioner: TextModel, image, seed: int = 0) -> str:
    inputs = dict(captioner.processor(images=image.convert("RGB"), return_tensors="pt"))
    caption = " ".join(captioner.decode(captioner.generate(inputs, seed, CAPTION_TOKENS)).split())
    if not caption:
        raise UserFacingError(f"{captioner.path.name} gave no words for this picture; "
                              "the prompt is kept as it was.")
    return caption


def as_tags(caption: str) -> str:
    """"a woman with red hair in the rain" -> "woman, red hair, rain": the
    phrases of a caption without articles, in the tag style of booru-trained
    models."""
    tags: list[str] = []
    for phrase in _JOINS.split(caption.lower()):
        words = [w for w in phrase.split() if w not in _ARTICLES]
        tag = " ".join(words).strip(" .;:")
        if tag and tag not in tags:
            tags.append(tag)
    return ", ".join(tags)


@dataclass(frozen=True)
class DescribeRequest:
    image: Any  # a PIL image, or a path to read on the pool
    seed: int = 0
    tags: bool = False  # comma-separated tags for anime-family models
    captioner: str | None = None  # a captioning model folder; None: the first found
    device: str = "cpu"  # the pool's device: the accelerator stays with generation


@lru_cache(maxsize=1)
def cached_captioner(folder: str, device: str = "cpu") -> TextModel:
    return load_captioner(folder, device)


def describe_job(request: DescribeRequest, progress, cancel) -> str:
    """The engine job behind the panel's Describe: a prompt for the picture."""
    from PIL import Image

    image = request.image
    if isinstance(image, (str, os.PathLike)):
        from artstudio.document.io_images import load_image

        pixels, _notes = load_image(image)
        image = Image.fromarray(pixels[..., :3], "RGB")
    folder = resolve(CAPTIONER, request.captioner)
    progress(0, 2, "Loading the captioning model")
    captioner = cached_captioner(str(folder), request.device)
    cancel.raise_if_cancelled()
    progress(1, 2, "Describing the picture")
    caption = describe(captioner, image, request.seed)
    progress(2, 2, "Described")
    return as_tags(caption) if request.tags else caption
