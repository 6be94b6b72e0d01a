"""Identification by reading files, scanning model folders, and refusing unsafe pickles."""

from __future__ import annotations

import os
import random
import shutil
import struct

import pytest
import torch
from safetensors.torch import save_file

from artstudio.diffusion.loading import VariantNeeded, resolve_variant
from artstudio.engine.errors import UserFacingError
from artstudio.model_files import identify, safe_load, scan


@pytest.mark.parametrize("kind,expected,prediction", [
    ("sd1", "sd1", "epsilon"), ("sd1-inpaint", "sd1-inpaint", "epsilon"),
    ("sd2-v", "sd2", "v_prediction"), ("sdxl-base", "sdxl-base", "epsilon"),
])
def test_identifies_diffusers_folders(tiny, kind, expected, prediction):
    info = identify.identify(tiny[kind]["diffusers"])
    assert (info.kind, info.format, info.prediction) == (expected, "diffusers", prediction)
    assert info.family == expected.split("-")[0] and info.size > 0 and len(info.short_hash) == 12


@pytest.mark.parametrize("kind,expected", [
    ("sd1", "sd1"), ("sd1-inpaint", "sd1-inpaint"), ("sd2-v", "sd2"), ("sdxl-base", "sdxl-base"),
])
def test_identifies_single_files_by_keys(tiny, tmp_path, kind, expected):
    # A copy without the config folder beside it: only the tensors decide.
    lone = tmp_path / "renamed-to-mislead-sdxl.safetensors"
    shutil.copy(tiny[kind]["single"], lone)
    info = identify.identify(lone)
    assert info.kind == expected and info.format == "single-file"


def test_sd2_needs_a_variant_choice_unless_told(tiny, tmp_path):
    lone = tmp_path / "sd2.safetensors"
    shutil.copy(tiny["sd2-v"]["single"], lone)
    info = identify.identify(lone)
    assert info.needs_variant_choice
    with pytest.raises(VariantNeeded) as caught:
        resolve_variant(info, None)
    assert caught.value.choices == ("sd2", "sd2-v")
    assert resolve_variant(info, "sd2-v") == "sd2-v"
    with pytest.raises(UserFacingError):
        resolve_variant(info, "sdxl-base")
    # an A1111-style yaml beside it says v-prediction
    (tmp_path / "sd2.yaml").write_text('model:\n  params:\n    parameterization: "v"\n')
    assert identify.identify(lone).prediction == "v_prediction"
    # the config folder beside the tiny checkpoint says so too
    assert identify.identify(tiny["sd2-v"]["single"]).prediction == "v_prediction"


def _fake(path, shapes):
    save_file({k: torch.zeros(s) for k, s in shapes.items()}, str(path))
    return path


UNET = "model.diffusion_model."


@pytest.mark.parametrize("shapes,expected", [
    ({UNET + "input_blocks.0.0.weight": (8, 9, 3, 3),
      UNET + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (8, 1024),
      "cond_stage_model.model.positional_embedding": (77, 8)}, "sd2-inpaint"),
    ({UNET + "input_blocks.0.0.weight": (8, 9, 3, 3), UNET + "label_emb.0.0.weight": (8, 8),
      "conditioner.embedders.1.model.positional_embedding": (77, 8)}, "sdxl-inpaint"),
    ({UNET + "input_blocks.0.0.weight": (8, 4, 3, 3), UNET + "label_emb.0.0.weight": (8, 8),
      "conditioner.embedders.0.model.positional_embedding": (77, 8)}, "sdxl-refiner"),
    ({UNET + "input_blocks.0.0.weight": (8, 4, 3, 3),
      UNET + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (8, 768)}, "sd1"),
    ({"conv_first.weight": (4, 3, 3, 3), "body.0.rdb1.conv1.weight": (4, 4, 3, 3)}, "upscaler"),
    ({"model.0.weight": (4, 3, 3, 3), "model.1.sub.0.RDB1.conv1.0.weight": (4, 4, 3, 3)},
     "upscaler"),
    ({"some.other.weight": (3, 3)}, "unknown"),
])
def test_identifies_kinds_from_header_shapes(tmp_path, shapes, expected):
    assert identify.identify(_fake(tmp_path / "m.safetensors", shapes)).kind == expected


def test_truncated_and_garbage_files_are_invalid_with_a_reason(tiny, tmp_path):
    data = tiny["sd1"]["single"].read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    info = identify.identify(cut)
    assert info.kind == "invalid" and "truncated" in info.notes[0]
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(os.urandom(4096))
    assert identify.identify(junk).kind == "invalid"
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    assert identify.identify(huge).kind == "invalid"
    junk_ckpt = tmp_path / "junk.ckpt"
    # Seeds 2 and 20 are bytes on which the restricted unpickler raises IndexError
    # and KeyError rather than UnpicklingError; the others, os.urandom's lottery.
    for data in (random.Random(2).randbytes(4096), random.Random(20).randbytes(4096),
                 os.urandom(4096)):
        junk_ckpt.write_bytes(data)
        info = identify.identify(junk_ckpt)
        assert info.kind == "invalid" and info.notes
    with pytest.raises(UserFacingError):
        safe_load.load_state_dict(cut)


def test_plain_ckpt_is_read_with_weights_only(tiny, tmp_path):
    from safetensors.torch import load_file

    state = load_file(str(tiny["sd1"]["single"]))
    ckpt = tmp_path / "model.ckpt"
    torch.save({"state_dict": state, "global_step": 7}, ckpt)
    info = identify.identify(ckpt)
    assert info.kind == "sd1"
    loaded = safe_load.load_state_dict(ckpt)
    assert set(loaded) == set(state)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".pth", ".bin"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, suffix):
    marker = tmp_path / "marker.txt"
    evil = tmp_path / f"evil{suffix}"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "payload": _Exploit(marker)}, evil)
    assert not marker.exists()
    with pytest.raises(safe_load.UnsafeModelError, match="arbitrary code"):
        safe_load.load_state_dict(evil)
    info = identify.identify(evil)
    assert info.kind == "invalid" and "Refused" in info.notes[0]
    assert scan.scan([tmp_path])[0].kind == "invalid"
    assert not marker.exists()


def test_scan_finds_a1111_comfy_and_hub_layouts(tiny, tmp_path):
    a1111 = tmp_path / "webui"
    (a1111 / "models" / "Stable-diffusion").mkdir(parents=True)
    shutil.copy(tiny["sd1"]["single"], a1111 / "models" / "Stable-diffusion" / "a.safetensors")
    (a1111 / "models" / "ESRGAN").mkdir()
    _fake(a1111 / "models" / "ESRGAN" / "4x.safetensors", {"conv_first.weight": (4, 3, 3, 3)})
    comfy = tmp_path / "ComfyUI"
    (comfy / "models" / "checkpoints").mkdir(parents=True)
    shutil.copy(tiny["sdxl-base"]["single"], comfy / "models" / "checkpoints" / "x.safetensors")
    hub = tmp_path / "hf" / "hub"
    snap = hub / "models--someone--tiny-sd" / "snapshots" / "0123abc"
    shutil.copytree(tiny["sd1-inpaint"]["diffusers"], snap)
    found = scan.scan([a1111, comfy, hub, tiny["root"] / "single"])
    kinds = sorted(i.kind for i in found)
    assert kinds.count("sd1") == 2 and "upscaler" in kinds and "sdxl-base" in kinds
    assert "sd1-inpaint" in kinds
    # config folders beside single files are not listed as models of their own
    assert not any(i.format == "diffusers" and i.path.parent.name == "single" for i in found)


def test_hub_cache_location_follows_hf_home(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert scan.hf_hub_cache() == tmp_path / "hub"
