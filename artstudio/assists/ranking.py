"""Best-of-N: candidates ranked by CLIP similarity to the prompt, as DALL-E 1
ranked its samples. Ranking only orders and scores; it never touches a
candidate's pixels."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from artstudio.assists.local_models import CLIP, resolve
from artstudio.engine.errors import UserFacingError
from artstudio.engine.network_building import builds_networks
from artstudio.model_files.offline import offline_and_quiet

SCORE_BATCH = 8  # images per CLIP forward pass


def _features(output):
    """transformers 5 returns a model output from get_*_features; 4 a tensor."""
    return getattr(output, "pooler_output", output)


@dataclass
class ClipScorer:
    model: object
    processor: object
    device: str
    path: Path

    @classmethod
    @builds_networks
    def load(cls, path: str | os.PathLike | None = None, device: str = "cpu") -> ClipScorer:
        from transformers import CLIPModel, CLIPProcessor

        offline_and_quiet()
        folder = resolve(CLIP, path)
        try:
            model = CLIPModel.from_pretrained(str(folder), local_files_only=True,
                                              use_safetensors=True)
            processor = CLIPProcessor.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise UserFacingError(f"The CLIP model {folder.name} could not be loaded: "
                                  f"{str(exc)[:200]}") from exc
        return cls(model.to(device).eval(), processor, device, folder)

    def text_embedding(self, prompt: str):
        import torch

        tokens = self.processor.tokenizer([prompt], padding=True, truncation=True,
                                          return_tensors="pt").to(self.device)
        with torch.inference_mode():
            text = _features(self.model.get_text_features(**tokens))
        return torch.nn.functional.normalize(text.float(), dim=-1)

    def image_embeddings(self, images: Sequence):
        import torch

        chunks = []
        for start in range(0, len(images), SCORE_BATCH):
            pixels = self.processor.image_processor(
                [im.convert("RGB") for im in images[start:start + SCORE_BATCH]],
                return_tensors="pt")["pixel_values"].to(self.device)
            with torch.inference_mode():
                chunks.append(_features(self.model.get_image_features(pixel_values=pixels)))
        return torch.nn.functional.normalize(torch.cat(chunks).float(), dim=-1)

    def scores(self, images: Sequence, prompt: str) -> list[float]:
        """Cosine similarity of each image to the prompt, times 100 as CLIP
        scores are usually quoted."""
        if not images:
            return []
        similarity = self.image_embeddings(images) @ self.text_embedding(prompt).T
        return [round(float(s) * 100, 2) for s in similarity[:, 0]]


def best_order(scores: Sequence[float]) -> list[int]:
    """Indices from the best score to the worst; ties keep generation order."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def best_k(scores: Sequence[float], k: int) -> list[int]:
    if k < 1:
        raise UserFacingError("--best must be at least 1.")
    return best_order(scores)[:k]
