"""Loading Stable Diffusion pipelines fully offline, and caching them.

Two routes:
* diffusers folders (also Hugging Face cache snapshots): `from_pretrained`
  with `local_files_only=True`;
* single-file checkpoints: weights read by the safe loader, then each
  component built from a config folder WITHOUT asking the hub: a folder
  beside the checkpoint with the same stem (user override, and how the tests'
  tiny checkpoints load), else the shipped artstudio/data/diffusion_configs/<variant>.

What differs between families (which pipeline class serves a mode, how a
single file is assembled, native sizes) comes from the family registry. The
9-channel inpainting UNet and SD2's epsilon / v-prediction split are decided
by the variant (see `resolve_variant`); files that cannot tell raise
VariantNeeded so the UI can ask once and remember the answer.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artstudio.diffusion import families
from artstudio.engine.devices import DeviceChoice, choose_device
from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import estimate_size, shared_cache
from artstudio.engine.network_building import builds_networks
from artstudio.model_files import safe_load
from artstudio.model_files.identify import ModelInfo, identify
from artstudio.model_files.offline import offline_and_quiet
from artstudio.resources import data_folder

log = logging.getLogger(__name__)

LOW_VRAM_BYTES = 6 * 1024**3  # below this, model CPU offload is the default on CUDA


def shipped_configs_dir() -> Path:
    """artstudio/data/diffusion_configs, wherever the app runs from
    (artstudio.resources)."""
    env = os.environ.get("ARTSTUDIO_DIFFUSION_CONFIGS")
    if env:
        return Path(env)
    return data_folder("diffusion_configs")


class VariantNeeded(UserFacingError):
    """The model's variant cannot be read from the file; the UI should ask."""

    def __init__(self, info: ModelInfo, choices: tuple[str, ...], question: str):
        super().__init__(question)
        self.info = info
        self.choices = choices


def resolve_variant(info: ModelInfo, variant: str | None) -> str:
    """The config variant for a model: the caller's choice when it fits the
    model's family, otherwise what identification found."""
    spec = families.family_of_kind(info.kind)
    if spec is None:
        why = "; ".join(info.notes) or f"it was identified as {info.kind}"
        raise UserFacingError(f"{info.path.name} is not a model Artstudio can generate with: "
                              f"{why}.")
    if variant:
        try:
            chosen_family, _ = families.variant(variant)
        except ValueError:
            raise UserFacingError(f"Unknown model variant {variant!r}.") from None
        if chosen_family is not spec:
            raise UserFacingError(
                f"{info.path.name} is a {info.kind} model; the variant {variant} does not fit it.")
        return variant
    candidates = spec.variants_of(info.kind)
    if len(candidates) == 1:
        return candidates[0].name
    matching = [v for v in candidates if v.prediction == info.prediction]
    if matching:
        return matching[0].name
    kinds = ", ".join(f"{v.name}: {v.label}" for v in candidates)
    raise VariantNeeded(
        info, tuple(v.name for v in candidates),
        f"{info.path.name} is a {spec.label} model, which comes in {len(candidates)} kinds "
        f"that the file cannot tell apart ({kinds}). Choose which one it is.")


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
    controlnets: dict[str, Any] = field(default_factory=dict)  # by path (artstudio.control)

    @property
    def family_spec(self) -> families.FamilySpec:
        return families.variant(self.variant)[0]

    @property
    def variant_spec(self) -> families.Variant:
        return families.variant(self.variant)[1]

    @property
    def family(self) -> str:
        return self.family_spec.name

    @property
    def is_inpaint_model(self) -> bool:
        return self.variant_spec.inpaint

    @property
    def native_size(self) -> int:
        """The resolution the model was trained at (512, 768 or 1024 for real
        models; 64 for the tiny test models)."""
        return self.family_spec.native_size(self.pipe, self.variant_spec)


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


_AUTO_PIPELINES = {"txt2img": "AutoPipelineForText2Image",
                   "img2img": "AutoPipelineForImage2Image",
                   "inpaint": "AutoPipelineForInpainting"}


def _derive(pipe, mode: str, class_name: str):
    """The pipeline `class_name` for `mode` over `pipe`'s loaded modules.

    Through diffusers' AutoPipeline, which builds the class from the modules as
    they are: `DiffusionPipeline.from_pipe` casts every shared module to
    float32 unless given a dtype (diffusers 0.42), which would double an fp16
    model's memory the first time the artist inpaints."""
    try:
        derived = _pipeline_class(_AUTO_PIPELINES[mode]).from_pipe(pipe)
    except ValueError:  # AutoPipeline maps no pipeline of this mode to the model's
        derived = None
    if type(derived).__name__ == class_name:
        return derived
    # A class AutoPipeline does not map to the mode (FLUX.2 Klein's inpainting
    # pipeline serving image-to-image): built from the same modules and settings.
    cls = _pipeline_class(class_name)
    wanted = inspect.signature(cls.__init__).parameters
    needed = {n for n, v in wanted.items() if n != "self" and v.default is inspect.Parameter.empty}
    if not needed <= set(pipe.components):
        raise UserFacingError(f"This model has no {class_name}; {mode} is not available for it.")
    settings = {k: v for k, v in pipe.config.items() if k in wanted and k not in pipe.components}
    return cls(**pipe.components, **settings)


def _load_single_file(info: ModelInfo, variant: str, dtype) -> Any:
    path = info.path
    spec, chosen = families.variant(variant)
    config_dir = _config_dir_for(path, variant)
    index = json.loads((config_dir / "model_index.json").read_text(encoding="utf-8"))
    state = safe_load.load_state_dict(path)
    try:
        parts = spec.assemble_single_file(state, config_dir, index, chosen, dtype, path)
    except UserFacingError:
        raise
    except (ValueError, RuntimeError, KeyError) as exc:
        raise UserFacingError(
            f"{path.name} does not match the {variant} configuration: {str(exc)[:200]}. If it is "
            "another variant, choose it; a config folder with the checkpoint's name beside it "
            "overrides detection.") from exc
    del state
    parts["scheduler"] = _load_scheduler(config_dir, variant)
    extra: dict[str, Any] = {}
    if "safety_checker" in index:
        extra = {"safety_checker": None, "feature_extractor": None,
                 "requires_safety_checker": False}
    for flag in ("requires_aesthetics_score", "force_zeros_for_empty_prompt"):
        if flag in index:
            extra[flag] = index[flag]
    return _pipeline_class(index["_class_name"])(**parts, **extra)


def _scheduler_overrides(variant: str) -> dict[str, Any]:
    """What a variant forces on its scheduler: the prediction type only where
    one kind comes in variants that differ by it (SD2, SDXL), since a folder's
    own scheduler config is otherwise right (some SD1 fine-tunes predict
    velocity); a zero-terminal-SNR schedule where the variant was trained on one."""
    chosen = families.variant(variant)[1]
    overrides: dict[str, Any] = {}
    if chosen.kind in families.ambiguous_kinds():
        overrides["prediction_type"] = chosen.prediction
    if chosen.zero_snr:
        overrides.update(rescale_betas_zero_snr=True, timestep_spacing="trailing")
    return overrides


def _load_scheduler(config_dir: Path, variant: str):
    import diffusers

    cfg_path = config_dir / "scheduler" / "scheduler_config.json"
    config = json.loads(cfg_path.read_text(encoding="utf-8"))
    cls = getattr(diffusers, config.get("_class_name", "EulerDiscreteScheduler"))
    return cls.from_config(config, **_scheduler_overrides(variant))


def _load_diffusers_folder(info: ModelInfo, variant: str, dtype) -> Any:
    from diffusers import DiffusionPipeline

    folder = info.path
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": dtype}
    if (index.get("safety_checker") or [None])[0] is not None:
        # The checker blacks out images and costs 1.2 GB; artists judge their own work.
        kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    spec = families.variant(variant)[0]
    if spec.folder_load_kwargs is not None:
        kwargs.update(spec.folder_load_kwargs(folder, index))
    denoiser = folder / spec.denoiser
    if not any(denoiser.glob("diffusion_pytorch_model.safetensors")) and any(
            denoiser.glob("*.fp16.safetensors")):
        kwargs["variant"] = "fp16"
    try:
        pipe = DiffusionPipeline.from_pretrained(str(folder), **kwargs)
    except OSError as exc:
        raise UserFacingError(f"{folder.name} could not be loaded: {str(exc)[:300]}") from exc
    wanted = _scheduler_overrides(variant)
    if any(pipe.scheduler.config.get(k) != v for k, v in wanted.items()):
        pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, **wanted)
    return pipe


def _wants_offload(device: DeviceChoice, setting: str) -> bool:
    if setting == "on":
        return device.device.startswith("cuda")
    if setting == "off" or not device.device.startswith("cuda"):
        return False
    import torch

    total = torch.cuda.get_device_properties(device.torch_device).total_memory
    return total < LOW_VRAM_BYTES


def _check_fits(path: Path, choice: DeviceChoice, offload: bool) -> None:
    """NotEnoughMemory before a weight is read, from the files' headers."""
    from artstudio.model_files import memory

    files = memory.model_weight_files(path)
    if files:
        memory.check_memory(memory.estimate_files(files, choice.dtype), choice.device,
                            offload=offload)


@builds_networks
def load_model(path: str | os.PathLike, variant: str | None = None, device: str = "auto",
               precision: str = "auto", cpu_offload: str = "auto",
               text_encoders: tuple[str, ...] = (), vae: str | None = None) -> LoadedModel:
    """Load a model without caching (see `get_model`). `text_encoders` and `vae`
    name a split model's parts instead of the ones found beside it."""
    offline_and_quiet()
    path = Path(path)
    info = identify(path)
    if info.kind == "invalid":
        raise UserFacingError(f"{path.name} cannot be used: {'; '.join(info.notes)}")
    chosen = resolve_variant(info, variant)
    choice = choose_device(device, precision)
    dtype = choice.torch_dtype
    offload = _wants_offload(choice, cpu_offload)
    if info.format != "split":  # a split set checks its own parts as it assembles them
        _check_fits(path, choice, offload)
    if info.format == "diffusers":
        pipe = _load_diffusers_folder(info, chosen, dtype)
    elif info.format == "split":
        from artstudio.diffusion.split_loading import load_split_model

        pipe = load_split_model(path, tuple(text_encoders), vae, _config_dir_for(path, chosen),
                                choice.device, choice.dtype, dtype, offload)
    else:
        pipe = _load_single_file(info, chosen, dtype)
    spec, chosen_variant = families.variant(chosen)
    if chosen_variant.inpaint and not chosen_variant.pipeline and (
            type(pipe).__name__ != spec.pipelines["inpaint"]):
        # Some folders name the text-to-image class for a 9-channel UNet.
        pipe = _derive(pipe, "inpaint", spec.pipelines["inpaint"])
    elif chosen_variant.pipeline and type(pipe).__name__ != chosen_variant.pipeline:
        # A variant the file cannot tell from another (a Kontext single file
        # has dev's tensors): the same modules under the variant's class.
        pipe = _pipeline_class(chosen_variant.pipeline)(**pipe.components)
    if offload:
        pipe.enable_model_cpu_offload(device=choice.torch_device)
    elif choice.device != "cpu":  # loaded on the CPU already
        pipe.to(choice.torch_device)
    pipe.set_progress_bar_config(disable=True)
    log.info("loaded %s as %s on %s%s", path, chosen, choice.describe(),
             " with CPU offload" if offload else "")
    return LoadedModel(pipe=pipe, info=info, variant=chosen, device=choice, offload=offload)


def get_model(path: str | os.PathLike, variant: str | None = None, device: str = "auto",
              precision: str = "auto", cpu_offload: str = "auto",
              text_encoders: tuple[str, ...] = (), vae: str | None = None) -> LoadedModel:
    """A cached LoadedModel, keyed by (path, variant, device, dtype, named parts)."""
    choice = choose_device(device, precision)
    key = ("diffusion", str(Path(path).resolve()), variant or "", choice.device, choice.dtype,
           cpu_offload, tuple(str(Path(p).resolve()) for p in text_encoders),
           str(Path(vae).resolve()) if vae else "")
    return shared_cache().get(
        key, lambda: load_model(path, variant, device, precision, cpu_offload,
                                tuple(text_encoders), vae),
        size_of=lambda m: estimate_size(m.pipe))


def pipeline_for(model: LoadedModel, mode: str):
    """The pipeline for `mode` ("txt2img", "img2img", "inpaint"), sharing the
    loaded modules. Inpainting checkpoints do everything through their
    inpainting pipeline (a full mask for text-to-image), because their 9-channel
    UNet does not fit the other pipelines."""
    variant = model.variant_spec
    if mode not in variant.modes:
        if mode == families.EDIT:
            raise UserFacingError(f"{model.info.name} cannot edit by instruction; Edit needs "
                                  "an instruction-editing model (FLUX.1 Kontext).")
        raise UserFacingError(variant.only_note or f"{model.info.name} cannot do {mode}.")
    # A variant limited to some modes loads as the pipeline for them (the refiner
    # is an image-to-image pipeline).
    if variant.inpaint or mode == "txt2img" or variant.modes != families.MODES:
        return model.pipe
    if mode not in model.derived:
        derived = _derive(model.pipe, mode, model.family_spec.pipelines[mode])
        derived.set_progress_bar_config(disable=True)
        model.derived[mode] = derived
    pipe = model.derived[mode]
    if model.offload:
        pipe.enable_model_cpu_offload(device=model.device.torch_device)
    return pipe
