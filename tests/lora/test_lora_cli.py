"""`artstudio generate --lora/--embeddings`, <lora:> tags in --prompt, and
`artstudio loras`: files written, exit codes, one-line refusals before any work."""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from artstudio.cli import main
from artstudio.diffusion import loading
from artstudio.paths import user_models_dir


@pytest.fixture
def setup(tiny, tmp_path):
    from tiny_assists import save_tiny_lora

    pipe = loading.get_model(tiny["sd1"]["diffusers"], device="cpu").pipe
    made = save_tiny_lora(pipe, tmp_path / "made", seed=6)
    lora_dir = user_models_dir() / "Lora"
    lora_dir.mkdir(parents=True)
    inkfox = shutil.copy(made["kohya"], lora_dir / "inkfox.safetensors")
    xl = lora_dir / "xl-only.safetensors"
    save_file({"lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight":
               torch.zeros(8, 1280)}, str(xl))
    emb = tmp_path / "emb"
    emb.mkdir()
    torch.manual_seed(8)
    save_file({"emb_params": torch.randn(1, 32) * 3}, str(emb / "chalky.safetensors"))
    out = tmp_path / "out"
    out.mkdir()
    return {"model": str(tiny["sd1"]["diffusers"]), "file": inkfox, "xl": xl,
            "emb": emb, "out": out, "checkpoint": tiny["sd1"]["single"], "tmp": tmp_path}


def _generate(s, name, *extra, prompt="a red cat"):
    return main(["generate", "--model", s["model"], "--prompt", prompt, "--steps", "2",
                 "--width", "64", "--height", "64", "--seed", "9", "--device", "cpu",
                 "--out", str(s["out"] / name), *extra])


def _pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(np.int16)


def test_lora_flags_tags_and_embeddings_make_the_pictures_they_say(setup, capsys):
    s = setup
    assert _generate(s, "base.png") == 0
    assert _generate(s, "file.png", "--lora", f"{s['file']}:0.9") == 0
    assert _generate(s, "tag.png", "--lora", f"{s['file']}:0.2",
                     prompt="a red cat <lora:inkfox:0.9>") == 0  # the prompt's tag wins
    assert _generate(s, "named.png", "--lora", "inkfox", "--embeddings", str(s["emb"]),
                     prompt="a red cat chalky") == 0
    base, file_, tag = (_pixels(s["out"] / n) for n in ("base.png", "file.png", "tag.png"))
    assert np.abs(file_ - base).max() > 10
    assert np.abs(tag - file_).max() <= 1
    with Image.open(s["out"] / "named.png") as image:
        text = image.text
    assert text["parameters"].startswith("a red cat chalky <lora:inkfox:1>\n")
    assert 'Lora hashes: "inkfox: ' in text["parameters"]
    assert 'TI hashes: "chalky: ' in text["parameters"]
    assert [e["name"] for e in json.loads(text["artstudio"])["loras"]] == ["inkfox"]
    printed = capsys.readouterr().out.split()
    assert printed == [str(s["out"] / n) for n in ("base.png", "file.png", "tag.png",
                                                   "named.png")]


def _pickle_embedding(folder):
    class Payload:
        def __reduce__(self):
            return (print, ("ran",))

    with (folder / "evil.pt").open("wb") as f:
        pickle.dump({"string_to_param": Payload()}, f)


@pytest.mark.parametrize("case", ["not-a-lora", "other-family", "missing-name", "missing-tag",
                                  "pickle-embedding", "no-folder", "bad-weight"])
def test_bad_loras_and_embeddings_are_refused_with_one_line(setup, capsys, case, monkeypatch):
    s = setup
    loads = []
    monkeypatch.setattr(loading, "load_model", lambda *a, **k: loads.append(a))
    prompt, extra, said = "a red cat", [], ""
    if case == "not-a-lora":
        extra, said = ["--lora", str(s["checkpoint"])], "is not a LoRA"
    elif case == "other-family":
        extra, said = ["--lora", "xl-only:0.5"], "xl-only is a LoRA for SDXL models, not SD1"
    elif case == "missing-name":
        extra, said = ["--lora", "nobody"], "“nobody” was not found"
    elif case == "missing-tag":
        prompt, said = "a cat <lora:missing:1>", "“missing” was not found"
    elif case == "pickle-embedding":
        _pickle_embedding(s["emb"])
        prompt, extra, said = "a cat evil", ["--embeddings", str(s["emb"])], "evil.pt"
    elif case == "no-folder":
        extra, said = ["--embeddings", str(s["tmp"] / "nowhere")], "does not exist"
    else:
        extra, said = ["--lora", "inkfox:99"], "weight must be a number between -10 and 10"
    assert _generate(s, "x.png", *extra, prompt=prompt) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err
    assert not (s["out"] / "x.png").exists() and loads == []


def test_loras_lists_family_triggers_and_refusals(setup, capsys):
    s = setup
    extra = s["tmp"] / "extra"
    extra.mkdir()
    shutil.copy(s["file"], extra / "watercolour.safetensors")
    assert main(["loras", "--model", s["model"], "--folder", str(extra)]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {line.split()[1] if line.startswith("-") else line.split()[0]: line
               for line in lines}
    assert set(by_name) == {"inkfox", "watercolour", "xl-only"}
    assert "triggers: red fox, forest" in by_name["inkfox"]
    assert by_name["inkfox"].startswith("  ") and "ANY FAMILY" in by_name["inkfox"]
    assert by_name["xl-only"].startswith("- ")
    assert "SDXL" in by_name["xl-only"] and "not SD1" in by_name["xl-only"]
    # without a model nothing is refused
    assert main(["loras"]) == 0
    assert not any(line.startswith("-") for line in capsys.readouterr().out.splitlines())


def test_loras_refuses_a_bad_model_or_folder(setup, capsys, tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a model")
    for argv in (["loras", "--model", str(junk)], ["loras", "--folder", str(tmp_path / "no")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("artstudio loras: ")
