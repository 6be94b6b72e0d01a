"""Finding diffusion models and TAESD preview decoders in the model folders,
and the history entry a finished generation leaves."""

from __future__ import annotations

import shutil

import pytest

from artstudio.diffusion import families
from artstudio.diffusion.find_models import find_diffusion_models
from artstudio.diffusion.history import HistoryEntry
from artstudio.diffusion.params import GenerationParams


@pytest.fixture(autouse=True)
def empty_hub_cache(tmp_path, monkeypatch):
    """The scan also looks in the Hugging Face cache: an empty one here, so
    models on the machine running the tests are not found."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))


def test_finds_diffusion_models_and_the_sd1_preview_decoder(tiny, tmp_path):
    from diffusers import AutoencoderTiny

    folder = tmp_path / "my-models"
    shutil.copytree(tiny["sd1"]["diffusers"], folder / "my-sd1")
    (folder / "notes.txt").write_text("not a model")
    AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8),
                    decoder_block_out_channels=(8, 8, 8, 8),
                    num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1),
                    ).save_pretrained(folder / "taesd")
    found = find_diffusion_models([str(folder)])
    assert [info.name for info in found.models] == ["my-sd1"]
    # SD2 shares SD1's latent space, so its decoder too
    # the other latent spaces (SDXL's, FLUX's 16 channels) have none here
    others = {f.name: None for f in families.FAMILIES if f.name not in ("sd1", "sd2")}
    assert found.preview_decoders == {"sd1": folder / "taesd", "sd2": folder / "taesd",
                                      **others}


def test_an_empty_folder_finds_nothing(tmp_path):
    found = find_diffusion_models([str(tmp_path)])
    assert found.models == [] and found.preview_decoders == {
        f.name: None for f in families.FAMILIES}


def test_history_entry_keeps_the_plain_settings_and_seeds():
    params = GenerationParams(model="/m/sd15.safetensors", prompt="a fox", steps=12,
                              init_image=object(), outpaint=(0, 0, 8, 0))
    entry = HistoryEntry.of_generation(params, [3, 4])
    assert entry.model == "/m/sd15.safetensors" and entry.seeds == [3, 4]
    assert entry.settings["prompt"] == "a fox" and entry.settings["steps"] == 12
    assert "init_image" not in entry.settings
    assert entry.settings["outpaint"] == [0, 0, 8, 0]  # as JSON holds it (issue 11, item 6)
    assert entry.settings["mode"] == "outpaint"


def test_a_model_folder_on_a_missing_drive_is_reported_and_the_others_still_scan(tmp_path):
    gone = tmp_path / "unplugged-drive" / "models"
    found = find_diffusion_models([str(gone), str(tmp_path)])
    assert found.missing_folders == [gone]
    assert found.models == []
