"""Loading the local transformers models behind Describe and Expand, and
seeded generation from them (the same seed gives the same words)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from artstudio.assists.local_models import AssistKind, resolve
from artstudio.engine.errors import UserFacingError
from artstudio.engine.network_building import builds_networks
from artstudio.model_files.offline import offline_and_quiet


@dataclass
class TextModel:
    model: object
    processor: object  # a tokenizer, or a processor for image-to-text models
    device: str
    path: Path

    @classmethod
    @builds_networks
    def load(cls, kind: AssistKind, auto_class: str, path: str | os.PathLike | None,
             device: str = "cpu") -> TextModel:
        import transformers

        offline_and_quiet()
        folder = resolve(kind, path)
        processor_class = "AutoTokenizer" if auto_class == "AutoModelForCausalLM" else \
            "AutoProcessor"
        try:
            model = getattr(transformers, auto_class).from_pretrained(
                str(folder), local_files_only=True, use_safetensors=True)
            processor = getattr(transformers, processor_class).from_pretrained(
                str(folder), local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise UserFacingError(f"{folder.name} could not be loaded as {kind.label}: "
                                  f"{str(exc)[:200]}") from exc
        return cls(model.to(device).eval(), processor, device, folder)

    def generate(self, inputs: dict, seed: int, max_new_tokens: int) -> list[int]:
        """New token ids after `inputs`, sampled with `seed` (nucleus sampling:
        another seed gives another wording)."""
        import torch

        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        torch.manual_seed(int(seed))
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=True,
                                      top_p=0.9, temperature=0.8)
        prompt_length = 0 if "pixel_values" in inputs and "input_ids" not in inputs else \
            inputs["input_ids"].shape[1]
        if getattr(self.model.config, "is_encoder_decoder", False):
            prompt_length = 0
        return out[0][prompt_length:].tolist()

    def decode(self, ids: list[int]) -> str:
        tokenizer = getattr(self.processor, "tokenizer", self.processor)
        return tokenizer.decode(ids, skip_special_tokens=True).strip()
