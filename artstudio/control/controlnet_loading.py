"""Loading a ControlNet offline: a diffusers folder with `from_pretrained`, a
single file with `ControlNetModel.from_single_file` and a config we write
ourselves, so diffusers never asks the hub for one.

A single file carries no config. A ControlNet is a copy of its base model's
UNet encoder, so its config is the loaded model's UNet config, corrected
where the tensors say otherwise (the hint encoder's widths, the transformer
depth of the smaller SDXL ControlNets); union, SD3 and FLUX ControlNets are
read from their tensors beside the denoiser's config (transformer_controlnets).
A `config.json` in a folder of the file's name beside it overrides that.
"""

from __future__ import annotations

import inspect
import json
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from artstudio.control.controlnet_files import LDM_PREFIX, ControlNetInfo, cross_width
from artstudio.engine.errors import UserFacingError
from artstudio.engine.network_building import builds_networks
from artstudio.model_files import safe_load


def _hint_channels(shapes: Mapping[str, tuple[int, ...]]) -> tuple[tuple[int, ...], int]:
    """(conditioning_embedding_out_channels, conditioning_channels) of the hint encoder."""
    if "controlnet_cond_embedding.conv_in.weight" in shapes:
        first = shapes["controlnet_cond_embedding.conv_in.weight"]
        blocks = sorted(int(m.group(1)) for k in shapes if (m := re.fullmatch(
            r"controlnet_cond_embedding\.blocks\.(\d+)\.weight", k)))
        outs = [shapes[f"controlnet_cond_embedding.blocks.{b}.weight"][0] for b in blocks]
    else:  # A1111's layout: input_hint_block.0 the first conv, the last one the output
        convs = sorted(int(m.group(1)) for k in shapes if (m := re.fullmatch(
            r"input_hint_block\.(\d+)\.weight", k)))
        first = shapes[f"input_hint_block.{convs[0]}.weight"]
        outs = [shapes[f"input_hint_block.{c}.weight"][0] for c in convs[1:-1]]
    # blocks go in pairs: a conv at one width, then a strided conv to the next
    return (first[0], *outs[1::2]), first[1]


def _transformer_depths(shapes: Mapping[str, tuple[int, ...]], blocks: int) -> list[int] | None:
    """Transformer layers per down block in a diffusers-layout file, None in others."""
    if not any(k.startswith("down_blocks.") for k in shapes):
        return None
    depths = []
    for i in range(blocks):
        layers = {int(m.group(1)) for k in shapes if (m := re.match(
            rf"down_blocks\.{i}\.attentions\.0\.transformer_blocks\.(\d+)\.", k))}
        depths.append(max(layers) + 1 if layers else 1)
    return depths


def derived_config(shapes: Mapping[str, tuple[int, ...]], unet_config: Mapping[str, Any]
                   ) -> dict[str, Any]:
    """A ControlNetModel config for the tensors `shapes` (diffusers or A1111
    keys, without the control_model. prefix) beside a UNet of `unet_config`."""
    from diffusers import ControlNetModel

    takes = set(inspect.signature(ControlNetModel.__init__).parameters) - {"self"}
    config = {k: v for k, v in unet_config.items() if k in takes}
    hint, channels = _hint_channels(shapes)
    config.update(conditioning_embedding_out_channels=list(hint), conditioning_channels=channels)
    conv_in = shapes.get("conv_in.weight") or shapes.get("input_blocks.0.0.weight")
    if conv_in:
        config["in_channels"] = conv_in[1]  # 4 even beside a 9-channel inpainting UNet
    width = cross_width(shapes)
    if width:
        config["cross_attention_dim"] = width
    depths = _transformer_depths(shapes, len(config.get("down_block_types", ())))
    if depths is not None and "transformer_layers_per_block" in takes:
        config["transformer_layers_per_block"] = depths
    config["_class_name"] = "ControlNetModel"
    return config


def _single_file_state(path: Path) -> dict[str, Any]:
    state = safe_load.load_state_dict(path)
    if any(k.startswith(LDM_PREFIX) for k in state):
        state = {k.removeprefix(LDM_PREFIX): v for k, v in state.items()
                 if k.startswith(LDM_PREFIX)}
    return state


def _with_added_embedding(state: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """diffusers' converter drops SDXL's added embedding (`label_emb`) from an
    A1111-layout ControlNet; convert the rest with it and put that back."""
    if "label_emb.0.0.weight" not in state:
        return state
    from diffusers.loaders.single_file_utils import convert_controlnet_checkpoint

    converted = convert_controlnet_checkpoint(state, config)
    for layer in ("linear_1", "linear_2"):
        index = 0 if layer == "linear_1" else 2
        for what in ("weight", "bias"):
            converted[f"add_embedding.{layer}.{what}"] = state[f"label_emb.0.{index}.{what}"]
    return converted


_FOLDER_CLASS = {"sd": "ControlNetModel", "sdxl": "ControlNetModel",
                 "union-sdxl": "ControlNetUnionModel", "sd3": "SD3ControlNetModel",
                 "flux": "FluxControlNetModel"}


def _single_file_model(info: ControlNetInfo, state: dict[str, Any],
                       base_config: Mapping[str, Any], config_dir: Path, dtype):
    """A single file's ControlNet; `config_dir` holds its config.json when the
    artist put one beside it, else it is empty and the config is derived."""
    import diffusers

    from artstudio.control import transformer_controlnets as tc

    beside = config_dir / "config.json"
    given = json.loads(beside.read_text(encoding="utf-8")) if beside.is_file() else None
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    if info.architecture == "sd3":
        if tc.is_stability_layout(shapes):
            state = tc.sd3_from_stability(state)
            shapes = {k: tuple(v.shape) for k, v in state.items()}
        config = given or tc.sd3_config(shapes, base_config)
    elif info.architecture == "flux":
        config = given or tc.flux_config(shapes, base_config)
    elif info.architecture == "union-sdxl":
        config = given or tc.union_config(shapes, derived_config(shapes, base_config))
    else:
        raise UserFacingError(f"{info.name}: single files of {info.architecture} ControlNets "
                              "cannot be loaded.")
    cls = getattr(diffusers, _FOLDER_CLASS[info.architecture])
    return tc.build_from_state(cls, config, state, dtype)


@builds_networks
def load_controlnet(info: ControlNetInfo, base_config: Mapping[str, Any], dtype):
    """The ControlNet of `info` on the CPU in `dtype`, read without the hub;
    `base_config` is the loaded model's denoiser config (a single file's
    config is derived from it and the file's tensors)."""
    import diffusers
    from diffusers import ControlNetModel

    from artstudio.model_files.offline import offline_and_quiet

    offline_and_quiet()
    try:
        if info.format == "diffusers":
            cls = getattr(diffusers, _FOLDER_CLASS.get(info.architecture, "ControlNetModel"))
            return cls.from_pretrained(str(info.path), local_files_only=True, torch_dtype=dtype)
        state = _single_file_state(info.path)
        beside = info.path.with_suffix("")
        with tempfile.TemporaryDirectory() as tmp:
            config_dir = beside if (beside / "config.json").is_file() else Path(tmp)
            if info.architecture not in ("sd", "sdxl"):
                return _single_file_model(info, state, base_config, config_dir, dtype)
            if config_dir == Path(tmp):
                config = derived_config({k: tuple(v.shape) for k, v in state.items()},
                                        base_config)
                (config_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
            config = json.loads((config_dir / "config.json").read_text(encoding="utf-8"))
            state = _with_added_embedding(state, config)
            return ControlNetModel.from_single_file(state, config=str(config_dir),
                                                    local_files_only=True, torch_dtype=dtype)
    except (OSError, ValueError, RuntimeError, KeyError, IndexError) as exc:
        raise UserFacingError(f"The ControlNet {info.name} could not be loaded: "
                              f"{str(exc)[:200]}") from exc
