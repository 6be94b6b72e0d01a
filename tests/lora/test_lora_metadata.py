"""LoRAs and embeddings in a PNG's metadata as A1111 writes them, and restored
from a real PNG: found by name, by hash after a rename, or named as missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from artstudio.diffusion import embeddings, loading, lora_restore, loras, metadata
from artstudio.diffusion.generate import generate_to_files, run
from artstudio.diffusion.history import HistoryEntry, restore_plan
from artstudio.diffusion.params import GenerationParams
from artstudio.paths import user_models_dir


@pytest.fixture
def folders(tiny, artstudio_home, tmp_path):
    """A LoRA in the app's models/Lora and an embedding in models/embeddings."""
    from tiny_assists import save_tiny_lora

    pipe = loading.get_model(tiny["sd1"]["diffusers"], device="cpu").pipe
    lora_dir, emb_dir = user_models_dir() / "Lora", user_models_dir() / "embeddings"
    made = save_tiny_lora(pipe, tmp_path / "made", seed=4)
    lora_dir.mkdir(parents=True)
    emb_dir.mkdir(parents=True)
    lora = shutil.copy(made["kohya"], lora_dir / "fox-ink.safetensors")
    torch.manual_seed(5)
    save_file({"emb_params": torch.randn(1, 32) * 3}, str(emb_dir / "wetpaint.safetensors"))
    return {"lora": Path(lora), "embedding": emb_dir / "wetpaint.safetensors"}


def _params(tiny, **kw) -> GenerationParams:
    base = dict(model=str(tiny["sd1"]["diffusers"]), prompt="a red cat wetpaint", steps=2,
                width=64, height=64, seed=21, device="cpu", preview_every=0,
                negative_prompt="blurry")
    base.update(kw)
    return GenerationParams(**base)


def test_the_png_carries_loras_weights_hashes_and_embeddings(tiny, folders, tmp_path, token):
    params = _params(tiny, loras=(("fox-ink", 0.7),))
    [png] = generate_to_files(params, tmp_path / "out.png", cancel=token)
    with Image.open(png) as image:
        text = dict(image.text)
    lines = text["parameters"].split("\n")
    assert lines[0] == "a red cat wetpaint <lora:fox-ink:0.7>"
    digest = loras.lora_hash(folders["lora"])
    assert f'Lora hashes: "fox-ink: {digest}"' in lines[-1]
    ti = embeddings.embedding_hash(folders["embedding"])
    assert f'TI hashes: "wetpaint: {ti}"' in lines[-1]
    ours = json.loads(text["artstudio"])
    assert ours["loras"] == [{"name": "fox-ink", "weight": 0.7, "hash": digest,
                              "path": str(folders["lora"])}]
    assert ours["embeddings"][0]["name"] == "wetpaint"
    # A1111's reading of the same chunk gives the same records back
    from_a1111 = metadata.settings_from_a1111(text["parameters"])
    assert from_a1111["lora_files"] == [{"name": "fox-ink", "hash": digest}]
    assert from_a1111["embedding_files"] == [{"name": "wetpaint", "hash": ti}]
    assert from_a1111["extra"].get("Lora hashes") is None


def test_a_dropped_png_restores_its_loras_and_makes_the_same_picture(tiny, folders, tmp_path,
                                                                      token):
    params = _params(tiny, loras=(("fox-ink", 0.7),))
    [png] = generate_to_files(params, tmp_path / "out.png", cancel=token)
    settings, missing = lora_restore.restore(metadata.read_settings(png))
    assert missing == []
    assert settings["prompt"] == "a red cat wetpaint <lora:fox-ink:0.7>"
    again = run(_params(tiny, prompt=settings["prompt"]), lambda *a, **k: None, token)
    with Image.open(png) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), np.asarray(again.images[0]))


def test_a_renamed_lora_is_found_by_its_hash_and_a_missing_one_is_named(tiny, folders,
                                                                          tmp_path, token):
    [png] = generate_to_files(_params(tiny, prompt="a cat <lora:fox-ink:0.5>"),
                              tmp_path / "out.png", cancel=token)
    renamed = folders["lora"].with_name("fox-ink-v2.safetensors")
    folders["lora"].rename(renamed)
    settings, missing = lora_restore.restore(metadata.read_settings(png))
    assert (settings["prompt"], missing) == ("a cat <lora:fox-ink-v2:0.5>", [])
    renamed.unlink()
    settings, missing = lora_restore.restore(metadata.read_settings(png))
    assert settings["prompt"] == "a cat <lora:fox-ink:0.5>"  # the tag stays: generating says
    assert missing == ["the LoRA fox-ink (not found in the LoRA folders)"]


def test_an_a1111_png_names_what_this_machine_lacks(tmp_path, folders):
    png = tmp_path / "a1111.png"
    text = ('portrait <lora:add_detail:0.6>, wetpaint, missingword\n'
            'Negative prompt: bad hands\n'
            'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512, '
            'Model hash: abcdef1234, Model: v1-5, '
            'Lora hashes: "add_detail: 7c6bad76eb54", '
            'TI hashes: "wetpaint: 0123456789, missingword: 9876543210", Version: v1.9.4')
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", text)
    Image.new("RGB", (8, 8)).save(png, pnginfo=info)
    settings, missing = lora_restore.restore(metadata.read_settings(png))
    assert missing == ["the LoRA add_detail (not found in the LoRA folders)",
                       "the embedding missingword (not found in the embeddings folders)"]
    assert settings["prompt"].startswith("portrait <lora:add_detail:0.6>")


def test_a_history_entry_restores_loras_chosen_outside_the_prompt(tiny, folders):
    entry = HistoryEntry.of_generation(_params(tiny, loras=((str(folders["lora"]), 0.4),)),
                                       [21])
    entry = HistoryEntry(entry.time, json.loads(json.dumps(entry.settings)), entry.model,
                         entry.seeds)  # as read back from the history file
    plan = restore_plan(entry, None, None, [tiny["sd1"]["diffusers"]])
    assert plan.settings["prompt"] == "a red cat wetpaint <lora:fox-ink:0.4>"
    assert not any("LoRA" in m for m in plan.not_restored)
    folders["lora"].unlink()
    plan = restore_plan(entry, None, None, [tiny["sd1"]["diffusers"]])
    assert "the LoRA fox-ink (not found in the LoRA folders)" in plan.not_restored
