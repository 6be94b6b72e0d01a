"""PNG text chunks: AUTOMATIC1111's `parameters` and our JSON, written and read back."""

from __future__ import annotations

from PIL import Image

from artstudio.diffusion import metadata

META = {
    "mode": "txt2img", "prompt": "a castle, dramatic light\nsecond line", "negative_prompt": "blur",
    "steps": 30, "cfg_scale": 6.5, "seed": 1234, "width": 768, "height": 512,
    "scheduler": "euler_a", "variant": "sd1", "seed_mode": "increment",
    "model": {"name": "dreamy", "hash": "abcdef123456", "path": "/m/dreamy.safetensors"},
}


def test_a1111_layout():
    text = metadata.a1111_text(META)
    lines = text.split("\n")
    assert lines[:2] == ["a castle, dramatic light", "second line"]
    assert lines[2] == "Negative prompt: blur"
    assert lines[3].startswith("Steps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 1234, "
                               "Size: 768x512, Model hash: abcdef123456, Model: dreamy")


def test_round_trip_through_a_png(tmp_path):
    path = metadata.save_png(Image.new("RGB", (8, 8)), tmp_path / "x.png", META)
    ours = metadata.read_settings(path)
    assert ours["prompt"] == META["prompt"] and ours["seed"] == 1234
    assert ours["scheduler"] == "euler_a" and ours["model_name"] == "dreamy"
    # without our chunk, the A1111 text alone restores the same core settings
    image = Image.open(path)
    theirs = metadata.settings_from_a1111(image.text["parameters"])
    for key in ("prompt", "negative_prompt", "steps", "cfg_scale", "seed", "width", "height",
                "scheduler"):
        assert theirs[key] == ours[key], key


def test_parses_a_real_a1111_string_with_extra_fields():
    text = (
        "masterpiece, 1girl, (blue hair:1.2), <lora:detail:0.5>\n"
        "Negative prompt: lowres, bad hands\n"
        "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 3141592653, "
        "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, "
        "Denoising strength: 0.45, Clip skip: 2, "
        'Lora hashes: "detail: 62d4aa4ef4e3", Hires upscale: 2, Version: v1.10.1'
    )
    s = metadata.settings_from_a1111(text)
    assert s["prompt"] == "masterpiece, 1girl, (blue hair:1.2), <lora:detail:0.5>"
    assert s["negative_prompt"] == "lowres, bad hands"
    assert (s["steps"], s["cfg_scale"], s["seed"]) == (28, 7.0, 3141592653)
    assert (s["width"], s["height"]) == (512, 768)
    assert s["scheduler"] == "dpmpp_2m_karras"
    assert s["strength"] == 0.45
    assert s["model_name"] == "v1-5-pruned-emaonly" and s["model_hash"] == "6ce0161689"
    assert s["extra"]["Clip skip"] == "2"
    assert s["lora_files"] == [{"name": "detail", "hash": "62d4aa4ef4e3"}]  # for lora_restore
    assert s["extra"]["Version"] == "v1.10.1"


def test_prompt_only_and_unknown_sampler():
    s = metadata.settings_from_a1111("just a prompt")
    assert s["prompt"] == "just a prompt" and s["negative_prompt"] == ""
    s = metadata.settings_from_a1111("p\nSteps: 5, Sampler: UniPC, CFG scale: 3, Seed: 1")
    assert "scheduler" not in s and s["extra"]["Sampler"] == "UniPC"


def test_png_without_settings(tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(path)
    assert metadata.read_settings(path) is None
