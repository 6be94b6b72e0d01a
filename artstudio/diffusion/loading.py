"""Loading Stable Diffusion pipelines fully offline, and caching them.

Two routes:
* diffusers folders (also Hugging Face cache snapshots): `from_pretrained`
  with `local_files_only=True`;
* single-file checkpoints: weights read by the safe loader, then each
  component built from a config folder WITHOUT asking the hub: a folder
  beside the checkpoint with the same stem (user override, and how the tests'
  tiny checkpoints load), else the shipped resources/diffusion_configs/<variant>.

The 9-channel inpainting UNet and SD2's epsilon / v-prediction split are
decided by the variant (see `resolve_variant`); SD2 files that cannot tell
raise VariantNeeded so the UI can ask once and remember the answer.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artstudio.diffusion.clip_vocab import bundled_clip_vocab
from artstudio.engine.devices import DeviceChoice, choose_device
from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import shared_cache
from artstudio.model_files import safe_load
from artstudio.model_files.identify import ModelInfo, hf_hub_cache, identify
from artstudio.model_files.offline import offline_and_quiet

log = logging.getLogger(__name__)

CONFIG_VARIANTS = ("sd1", "sd1-inpaint", "sd2", "sd2-v", "sd2-inpaint", "sdxl-base",
                   "sdxl-inpaint", "sdxl-refiner")
LOW_VRAM_BYTES = 6 * 1024**3  # below this, model CPU offload is the default on CUDA


def shipped_configs_dir() -> Path:
    """resources/diffusion_configs, beside the package in a checkout and in the
    frozen app (PyInstaller keeps the same relative layout)."""
    env = os.environ.get("ARTSTUDIO_DIFFUSION_CONFIGS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "resources" / "diffusion_configs"


class VariantNeeded(UserFacingError):
    """The model's variant cannot be read from the file; the UI should ask."""

    def __init__(self, info: ModelInfo, choices: tuple[str, ...], question: str):
        super().__init__(question)
        self.info = info
        self.choices = choices


def resolve_variant(info: ModelInfo, variant: str | None) -> str:
    """The config variant for a model: the caller's choice when it fits the
    model's family, otherwise what identification found."""
    if not info.is_diffusion:
        why = "; ".join(info.notes) or f"it was identified as {info.kind}"
        raise UserFacingError(f"{info.path.name} is not a Stable Diffusion model: {why}.")
    if variant:
        if variant not in CONFIG_VARIANTS:
            raise UserFacingError(f"Unknown model variant {variant!r}.")
        if variant.split("-")[0] != info.kind.split("-")[0]:
            raise UserFacingError(
                f"{info.path.name} is a {info.kind} model; the variant {variant} does not fit it.")
        return variant
    if info.kind == "sd2":
        if info.prediction == "v_prediction":
            return "sd2-v"
        if info.prediction == "epsilon":
            return "sd2"
        raise VariantNeeded(
            info, ("sd2", "sd2-v"),
            f"{info.path.name} is a Stable Diffusion 2 model, which comes in two kinds that "
            "the file cannot tell apart: 512 px (noise prediction) or 768 px "
            "(v-prediction). Choose which one it is.")
    return info.kind


# ---- tokenizers -----------------------------------------------------------------

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


# ---- loading ---------------------------------------------------------------------

@dataclass
class LoadedModel:
    """A loaded base pipeline and what we know about it."""

    pipe: Any
    info: ModelInfo
    variant: str
    device: DeviceChoice
    offload: bool
    derived: dict[str, Any] = field(default_factory=dict)  # mode -> pipeline sharing modules
    vae_fp32: bool = False  # set after an fp16 decode gave NaN, kept for later decodes

    @property
    def family(self) -> str:
        return self.variant.split("-")[0]

    @property
    def is_inpaint_model(self) -> bool:
        return self.variant.endswith("inpaint")

    @property
    def native_size(self) -> int:
        """The resolution the model was trained at (512, 768 or 1024 for real
        models; 64 for the tiny test models)."""
        unet = self.pipe.unet.config
        return int(unet.sample_size) * int(self.pipe.vae_scale_factor)


def _config_dir_for(path: Path, variant: str) -> Path:
    beside = path.with_suffix("")
    if (beside / "model_index.json").is_file():
        return beside
    folder = shipped_configs_dir() / variant
    if not (folder / "model_index.json").is_file():
        raise UserFacingError(f"The configuration for {variant} models is missing from this "
                              f"installation ({folder}).")
    return folder


def _pipeline_class(name: str):
    import diffusers

    return getattr(diffusers, name)


def _load_single_file(info: ModelInfo, variant: str, dtype) -> Any:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.loaders.single_file_utils import create_diffusers_clip_model_from_ldm
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    path = info.path
    config_dir = _config_dir_for(path, variant)
    index = json.loads((config_dir / "model_index.json").read_text(encoding="utf-8"))
    state = safe_load.load_state_dict(path)
    if not any(k.startswith("first_stage_model.") for k in state):
        raise UserFacingError(f"{path.name} has no VAE inside; this checkpoint is not supported "
                              "yet (choose a full checkpoint).")
    common = {"config": str(config_dir), "local_files_only": True, "dtype": dtype}
    try:
        parts: dict[str, Any] = {
            "unet": UNet2DConditionModel.from_single_file(state, subfolder="unet", **common),
            "vae": AutoencoderKL.from_single_file(state, subfolder="vae", **common),
        }
        for name, cls in (("text_encoder", CLIPTextModel),
                          ("text_encoder_2", CLIPTextModelWithProjection)):
            if (index.get(name) or [None])[0] is None:
                continue
            parts[name] = create_diffusers_clip_model_from_ldm(
                cls, state, subfolder=name, config=str(config_dir), torch_dtype=dtype,
                local_files_only=True)
            tok = "tokenizer" if name == "text_encoder" else "tokenizer_2"
            parts[tok] = load_tokenizer(config_dir, tok, path)
    except UserFacingError:
        raise
    except (ValueError, RuntimeError, KeyError) as exc:
        raise UserFacingError(
            f"{path.name} does not match the {variant} configuration: {str(exc)[:200]}. If it is "
            "another variant, choose it; a config folder with the checkpoint's name beside it "
            "overrides detection.") from exc
    del state
    parts["scheduler"] = _load_scheduler(config_dir, variant)
    cls = _pipeline_class(index["_class_name"])
    extra: dict[str, Any] = {}
    if "safety_checker" in index:
        extra = {"safety_checker": None, "feature_extractor": None,
                 "requires_safety_checker": False}
    if "requires_aesthetics_score" in index:
        extra["requires_aesthetics_score"] = index["requires_aesthetics_score"]
    if "force_zeros_for_empty_prompt" in index:
        extra["force_zeros_for_empty_prompt"] = index["force_zeros_for_empty_prompt"]
    if cls.__name__.startswith("StableDiffusionXL"):
        parts.setdefault("text_encoder", None)
        parts.setdefault("tokenizer", None)
    return cls(**parts, **extra)


def _load_scheduler(config_dir: Path, variant: str):
    import diffusers

    cfg_path = config_dir / "scheduler" / "scheduler_config.json"
    config = json.loads(cfg_path.read_text(encoding="utf-8"))
    cls = getattr(diffusers, config.get("_class_name", "EulerDiscreteScheduler"))
    overrides = {}
    if variant == "sd2-v":
        overrides["prediction_type"] = "v_prediction"
    elif variant == "sd2":
        overrides["prediction_type"] = "epsilon"
    return cls.from_config(config, **overrides)


def _load_diffusers_folder(info: ModelInfo, variant: str, dtype) -> Any:
    from diffusers import DiffusionPipeline

    folder = info.path
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": dtype}
    if (index.get("safety_checker") or [None])[0] is not None:
        # The checker blacks out images and costs 1.2 GB; artists judge their own work.
        kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    unet_dir = folder / "unet"
    if not any(unet_dir.glob("diffusion_pytorch_model.safetensors")) and any(
            unet_dir.glob("*.fp16.safetensors")):
        kwargs["variant"] = "fp16"
    try:
        pipe = DiffusionPipeline.from_pretrained(str(folder), **kwargs)
    except OSError as exc:
        raise UserFacingError(f"{folder.name} could not be loaded: {str(exc)[:300]}") from exc
    if variant in ("sd2", "sd2-v"):
        wanted = "v_prediction" if variant == "sd2-v" else "epsilon"
        if pipe.scheduler.config.get("prediction_type") != wanted:
            pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config,
                                                              prediction_type=wanted)
    return pipe


def _wants_offload(device: DeviceChoice, setting: str) -> bool:
    if setting == "on":
        return device.device.startswith("cuda")
    if setting == "off" or not device.device.startswith("cuda"):
        return False
    import torch

    total = torch.cuda.get_device_properties(device.torch_device).total_memory
    return total < LOW_VRAM_BYTES


def load_model(path: str | os.PathLike, variant: str | None = None, device: str = "auto",
               precision: str = "auto", cpu_offload: str = "auto") -> LoadedModel:
    """Load a model without caching (see `get_model`)."""
    offline_and_quiet()
    path = Path(path)
    info = identify(path)
    if info.kind == "invalid":
        raise UserFacingError(f"{path.name} cannot be used: {'; '.join(info.notes)}")
    chosen = resolve_variant(info, variant)
    choice = choose_device(device, precision)
    dtype = choice.torch_dtype
    if info.format == "diffusers":
        pipe = _load_diffusers_folder(info, chosen, dtype)
    else:
        pipe = _load_single_file(info, chosen, dtype)
    if chosen.endswith("inpaint") and "Inpaint" not in type(pipe).__name__:
        # Some folders name the text-to-image class for a 9-channel UNet.
        from diffusers import AutoPipelineForInpainting

        pipe = AutoPipelineForInpainting.from_pipe(pipe)
    offload = _wants_offload(choice, cpu_offload)
    if offload:
        pipe.enable_model_cpu_offload(device=choice.torch_device)
    elif choice.device != "cpu":  # loaded on the CPU already
        pipe.to(choice.torch_device)
    pipe.set_progress_bar_config(disable=True)
    log.info("loaded %s as %s on %s%s", path, chosen, choice.describe(),
             " with CPU offload" if offload else "")
    return LoadedModel(pipe=pipe, info=info, variant=chosen, device=choice, offload=offload)


def get_model(path: str | os.PathLike, variant: str | None = None, device: str = "auto",
              precision: str = "auto", cpu_offload: str = "auto") -> LoadedModel:
    """A cached LoadedModel, keyed by (path, variant, device, dtype)."""
    choice = choose_device(device, precision)
    key = ("diffusion", str(Path(path).resolve()), variant or "", choice.device, choice.dtype,
           cpu_offload)
    return shared_cache().get(
        key, lambda: load_model(path, variant, device, precision, cpu_offload),
        size_of=lambda m: _estimate(m.pipe))


def _estimate(pipe) -> int:
    from artstudio.engine.model_cache import estimate_size

    return estimate_size(pipe)


def pipeline_for(model: LoadedModel, mode: str):
    """The pipeline for `mode` ("txt2img", "img2img", "inpaint"), sharing the
    loaded modules. Inpainting checkpoints do everything through their
    inpainting pipeline (a full mask for text-to-image), because their 9-channel
    UNet does not fit the other pipelines."""
    from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

    if model.variant == "sdxl-refiner":
        if mode != "img2img":
            raise UserFacingError("The SDXL refiner only refines an existing image; use it for "
                                  "image-to-image without a mask.")
        return model.pipe
    if model.is_inpaint_model:
        return model.pipe
    if mode == "txt2img":
        return model.pipe
    if mode not in model.derived:
        auto = AutoPipelineForImage2Image if mode == "img2img" else AutoPipelineForInpainting
        derived = auto.from_pipe(model.pipe)
        derived.set_progress_bar_config(disable=True)
        model.derived[mode] = derived
    pipe = model.derived[mode]
    if model.offload:
        pipe.enable_model_cpu_offload(device=model.device.torch_device)
    return pipe
