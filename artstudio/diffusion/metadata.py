"""Generation settings in PNG text chunks, readable by the tools artists use.

Two chunks per image:
* `parameters`: AUTOMATIC1111's layout, which A1111, ComfyUI loaders, Civitai
  and most image browsers read:

      a prompt, possibly on several lines
      Negative prompt: a negative prompt
      Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 512x512, Model: name

* `artstudio`: JSON with every setting we used (exact sampler id, variant,
  mask settings...), the source of truth when we read our own files back.

`read_settings` turns either chunk (ours first) back into GenerationParams
fields, for "drop a PNG to restore its settings"; the LoRAs and embeddings it
used come back as `lora_files` / `embedding_files` ({"name", "hash", ...}),
for lora_restore to find.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from artstudio.assists.records import a1111_pairs as assist_pairs
from artstudio.control.a1111_text import a1111_pairs as control_pairs
from artstudio.diffusion import schedulers

JSON_KEY = "artstudio"
A1111_KEY = "parameters"
FORMAT_VERSION = 1

# "Key: value" pairs of A1111's last line; values may be quoted and hold commas.
_PAIR = re.compile(r'\s*([\w][\w \-/+.()]*?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def _fmt_number(value: float) -> str:
    return f"{value:g}"


def a1111_text(meta: dict[str, Any]) -> str:
    """The `parameters` text for one image from our metadata dict."""
    lines = [meta.get("prompt", "")]
    if meta.get("negative_prompt"):
        lines.append(f"Negative prompt: {meta['negative_prompt']}")
    sampler = meta.get("scheduler", "")
    label = schedulers.SAMPLERS[sampler].label if sampler in schedulers.SAMPLERS else sampler
    pairs = [
        ("Steps", str(meta.get("steps", ""))),
        ("Sampler", label),
        # Distilled models (FLUX.1) run no CFG; Forge writes their guidance this way.
        ("CFG scale", _fmt_number(float(meta.get("cfg_scale", 1 if "guidance" in meta else 7)))),
        ("Distilled CFG Scale", _fmt_number(float(meta["guidance"])) if "guidance" in meta
         else ""),
        ("Seed", str(meta.get("seed", ""))),
        ("Size", f"{meta.get('width', 0)}x{meta.get('height', 0)}"),
    ]
    model = meta.get("model") or {}
    if model.get("hash"):
        pairs.append(("Model hash", model["hash"]))
    if model.get("name"):
        pairs.append(("Model", model["name"]))
    if meta.get("mode") in ("img2img", "inpaint", "outpaint") and "strength" in meta:
        pairs.append(("Denoising strength", _fmt_number(float(meta["strength"]))))
    if meta.get("mode") in ("inpaint", "outpaint"):
        pairs.append(("Mask blur", str(meta.get("mask_blur", 0))))
    for key, label in (("loras", "Lora hashes"), ("embeddings", "TI hashes")):
        # A1111's way: "name: hash, name: hash", the LoRAs' weights in the prompt's tags
        pairs.append((label, ", ".join(f"{e['name']}: {e['hash']}" for e in meta.get(key, []))))
    pairs += control_pairs(meta)  # the controls, as A1111's ControlNet extension writes them
    pairs += assist_pairs(meta)  # tiling, the prompt before expansion, CLIP rank
    pairs.append(("Version", f"Artstudio {meta.get('app_version', '')}".strip()))
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in pairs if v != ""))
    return "\n".join(lines)


def _quote(value: str) -> str:
    return json.dumps(value) if ("," in value or ":" in value or '"' in value) else value


def png_info(meta: dict[str, Any]):
    """A PIL PngInfo with both chunks."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(A1111_KEY, a1111_text(meta))
    info.add_text(JSON_KEY, json.dumps({"version": FORMAT_VERSION, **meta}, sort_keys=True))
    return info


def save_png(image, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write the PNG through a temporary file renamed over `path`: on a full
    disk or any other failure an existing file is left as it was."""
    from artstudio.document.save import atomic_write

    path = Path(path)
    info = png_info(meta)
    atomic_write(path, lambda stream: image.save(stream, format="PNG", pnginfo=info))
    return path


def parse_a1111(text: str) -> dict[str, Any]:
    """{"prompt", "negative_prompt", and every "Key: value" of the last line}
    from an A1111 `parameters` text. Unknown keys are kept as strings."""
    lines = text.strip().split("\n")
    pairs: dict[str, str] = {}
    if lines and len(_PAIR.findall(lines[-1])) >= 3 and "Steps:" in lines[-1]:
        for key, value in _PAIR.findall(lines[-1]):
            value = value.strip()
            if value.startswith('"') and value.endswith('"'):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    value = value[1:-1]
            pairs[key.strip()] = value
        lines = lines[:-1]
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].strip()
        (negative if in_negative else prompt).append(line)
    return {"prompt": "\n".join(prompt).strip(), "negative_prompt": "\n".join(negative).strip(),
            **pairs}


def settings_from_a1111(text: str) -> dict[str, Any]:
    """GenerationParams fields (and model_name / model_hash / extra) from A1111 text."""
    raw = parse_a1111(text)
    out: dict[str, Any] = {"prompt": raw.pop("prompt"),
                           "negative_prompt": raw.pop("negative_prompt")}
    conv = {"Steps": ("steps", int), "CFG scale": ("cfg_scale", float), "Seed": ("seed", int),
            "Denoising strength": ("strength", float), "Mask blur": ("mask_blur", int)}
    if "Distilled CFG Scale" in raw:  # the guidance a distilled model took: ours is cfg_scale
        conv["Distilled CFG Scale"] = ("cfg_scale", float)
        raw.pop("CFG scale", None)
    for key, (name, fn) in conv.items():
        if key in raw:
            value = raw.pop(key)
            try:
                out[name] = fn(value)
            except ValueError:
                raw[key] = value  # unreadable: keep it visible rather than guess
    if "Size" in raw:
        m = re.fullmatch(r"(\d+)x(\d+)", raw.pop("Size").strip())
        if m:
            out["width"], out["height"] = int(m.group(1)), int(m.group(2))
    if "Sampler" in raw:
        label = raw.pop("Sampler")
        schedule = raw.get("Schedule type", "")
        if schedule.lower() == "karras" and not label.lower().endswith("karras"):
            label += " Karras"
            raw.pop("Schedule type")
        sampler = schedulers.from_label(label)
        if sampler:
            out["scheduler"] = sampler
        else:
            raw["Sampler"] = label  # no equivalent: keep it visible to the user
    if "Model" in raw:
        out["model_name"] = raw.pop("Model")
    if "Model hash" in raw:
        out["model_hash"] = raw.pop("Model hash")
    for label, key in (("Lora hashes", "lora_files"), ("TI hashes", "embedding_files")):
        if label in raw:
            out[key] = [{"name": name.strip(), "hash": digest.strip()}
                        for name, _, digest in (e.rpartition(":") for e in
                                                raw.pop(label).split(","))
                        if name.strip()]
    out["extra"] = raw
    return out


_FIELDS = ("prompt", "negative_prompt", "steps", "cfg_scale", "seed", "width", "height",
           "scheduler", "strength", "mask_blur", "mask_padding", "only_masked", "variant",
           "outpaint", "seed_mode", "tileable")


def settings_from_json(text: str) -> dict[str, Any]:
    data = json.loads(text)
    out = {k: data[k] for k in _FIELDS if k in data}
    if "guidance" in data:  # a distilled model's guidance goes where the panel keeps it
        out["cfg_scale"] = data["guidance"]
    if isinstance(out.get("outpaint"), list):
        out["outpaint"] = tuple(out["outpaint"])
    for ours, theirs in (("lora_files", "loras"), ("embedding_files", "embeddings")):
        if isinstance(data.get(theirs), list):
            out[ours] = [e for e in data[theirs] if isinstance(e, dict) and e.get("name")]
    model = data.get("model") or {}
    for ours, theirs in (("model_name", "name"), ("model_hash", "hash"), ("model_path", "path")):
        if model.get(theirs):
            out[ours] = model[theirs]
    out["extra"] = {}
    return out


def read_settings(source) -> dict[str, Any] | None:
    """Settings from a PNG path or PIL image: our JSON chunk when present, else
    A1111's `parameters`; None when the image carries neither."""
    from PIL import Image

    image = Image.open(source) if isinstance(source, (str, Path)) else source
    try:
        text = dict(getattr(image, "text", None) or image.info)
    finally:
        if isinstance(source, (str, Path)):
            image.close()
    if isinstance(text.get(JSON_KEY), str):
        try:
            return settings_from_json(text[JSON_KEY])
        except (json.JSONDecodeError, TypeError, AttributeError):
            pass  # damaged: fall back to the A1111 text
    if isinstance(text.get(A1111_KEY), str):
        return settings_from_a1111(text[A1111_KEY])
    return None
