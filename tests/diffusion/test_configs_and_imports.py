"""Import rules and the shipped offline configs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from artstudio.diffusion.families import variant_names
from artstudio.diffusion.loading import shipped_configs_dir


def test_model_packages_never_import_qt_and_identification_needs_no_torch():
    code = (
        "import sys\n"
        "import artstudio.model_files.identify, artstudio.diffusion.metadata\n"
        "import artstudio.diffusion.schedulers, artstudio.model_files.safe_load\n"
        "assert 'torch' not in sys.modules, 'torch imported at import time'\n"
        "import artstudio.diffusion.generate, artstudio.diffusion.loading\n"
        "import artstudio.diffusion.masking, artstudio.diffusion.previews\n"
        "import artstudio.upscale.upscaling, artstudio.style.transfer\n"
        "import artstudio.selftest.random_models\n"
        "bad = [m for m in sys.modules if m.startswith('PySide6')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# Parameter counts of the published models: the configs describe the real architectures.
KNOWN_UNET_PARAMS = {"sd1": 859_520_964, "sd2": 865_910_724, "sdxl-base": 2_567_463_684}
KNOWN_TEXT_PARAMS = {"sd1": 123_060_480, "sd2": 340_387_840}


SD_VARIANTS = [n for n in variant_names() if not n.startswith("flux")]
FLUX_VARIANTS = [n for n in variant_names() if n.startswith("flux")]


@pytest.mark.parametrize("variant", SD_VARIANTS)
def test_shipped_config_folders_are_complete_and_weightless(variant):
    folder = shipped_configs_dir() / variant
    index = json.loads((folder / "model_index.json").read_text())
    for name, (library, _cls) in ((k, v) for k, v in index.items() if isinstance(v, list)):
        if library is None:
            continue
        sub = folder / name
        assert any(sub.glob("*.json")), f"{variant}/{name} has no config"
    assert not list(folder.rglob("*.safetensors")) and not list(folder.rglob("*.bin"))
    unet = json.loads((folder / "unet" / "config.json").read_text())
    assert unet["in_channels"] == (9 if variant.endswith("inpaint") else 4)
    sched = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    assert sched["prediction_type"] == ("v_prediction" if variant == "sd2-v" else "epsilon")


@pytest.mark.parametrize("name", SD_VARIANTS)
def test_the_family_registry_agrees_with_each_shipped_config(name):
    """Native size, prediction, inpainting and the pipeline class written once in
    the registry and once in the config folder must say the same."""
    from artstudio.diffusion.families import variant

    spec, chosen = variant(name)
    folder = shipped_configs_dir() / name
    index = json.loads((folder / "model_index.json").read_text())
    unet = json.loads((folder / spec.denoiser / "config.json").read_text())
    sched = json.loads((folder / "scheduler" / "scheduler_config.json").read_text())
    assert unet["sample_size"] * 8 == chosen.size
    assert sched["prediction_type"] == chosen.prediction
    assert (unet["in_channels"] == 9) is chosen.inpaint
    mode = "inpaint" if chosen.inpaint else chosen.modes[0]
    assert index["_class_name"] == spec.pipelines[mode]


@pytest.mark.parametrize("variant", ["sd1", "sd2", "sdxl-base"])
def test_shipped_configs_have_the_real_parameter_counts(variant):
    from accelerate import init_empty_weights
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = shipped_configs_dir() / variant
    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(
            json.loads((folder / "unet" / "config.json").read_text()))
        assert sum(p.numel() for p in unet.parameters()) == KNOWN_UNET_PARAMS[variant]
        if variant in KNOWN_TEXT_PARAMS:
            text_cfg = folder / "text_encoder" / "config.json"
            cfg = CLIPTextConfig(**json.loads(text_cfg.read_text()))
            text = CLIPTextModel(cfg)
            assert sum(p.numel() for p in text.parameters()) == KNOWN_TEXT_PARAMS[variant]


# FLUX.1 dev's published 11.9 billion; its ae.safetensors VAE 83.8 million.
KNOWN_FLUX_PARAMS = {"flux-dev": 11_901_408_320, "flux-schnell": 11_891_178_560,
                     "flux-fill": 11_902_391_360, "flux-kontext": 11_901_408_320}


@pytest.mark.parametrize("name", FLUX_VARIANTS)
def test_flux_configs_agree_with_the_registry_and_the_real_sizes(name):
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, FluxTransformer2DModel

    from artstudio.diffusion.families import variant

    spec, chosen = variant(name)
    folder = shipped_configs_dir() / name
    assert not list(folder.rglob("*.safetensors")) and not list(folder.rglob("*.bin"))
    index = json.loads((folder / "model_index.json").read_text())
    assert index["_class_name"] == (chosen.pipeline or spec.pipelines["txt2img"])
    config = json.loads((folder / "transformer" / "config.json").read_text())
    assert config["guidance_embeds"] is (name != "flux-schnell")
    with init_empty_weights():
        transformer = FluxTransformer2DModel.from_config(config)
        vae = AutoencoderKL.from_config(json.loads((folder / "vae" / "config.json").read_text()))
    assert sum(p.numel() for p in transformer.parameters()) == KNOWN_FLUX_PARAMS[name]
    assert sum(p.numel() for p in vae.parameters()) == 83_819_683
    assert vae.config.latent_channels == spec.latent.channels
