"""`artstudio generate --model TRANSFORMER_FILE` with a split set: parts found
in ComfyUI's sibling folders or named with --text-encoder / --vae; a missing
part, a part of another model and parts named for a whole model exit 2."""

from __future__ import annotations

import pytest
import split_parts as sp
from PIL import Image

from artstudio.cli import main


@pytest.fixture
def comfy(tiny_flux, tmp_path):
    from diffusers import FluxPipeline

    folder = tiny_flux["flux-dev"]["diffusers"]
    pipe = FluxPipeline.from_pretrained(str(folder), local_files_only=True)
    return sp.save_split_set(pipe, folder, tmp_path / "ComfyUI")


def _generate(model, tmp_path, *extra):
    out = tmp_path / "out.png"
    args = ["generate", "--model", str(model), "--prompt", "a red cat", "--steps", "2",
            "--width", "64", "--height", "48", "--seed", "3", "--out", str(out), *extra]
    return main(args), out


@pytest.mark.parametrize("gguf", [False, True])
def test_generates_from_a_split_set(tiny_flux, tmp_path, capsys, gguf):
    from diffusers import FluxPipeline

    folder = tiny_flux["flux-dev"]["diffusers"]
    pipe = FluxPipeline.from_pretrained(str(folder), local_files_only=True)
    model = sp.save_split_set(pipe, folder, tmp_path / "ComfyUI", gguf=gguf)
    code, out = _generate(model, tmp_path)
    assert code == 0, capsys.readouterr().err
    with Image.open(out) as image:
        assert image.size == (64, 48)


def test_named_parts_are_used(comfy, tmp_path, capsys):
    models = comfy.parents[1]
    other_vae = models / "vae" / "flux_ae_copy.safetensors"
    other_vae.write_bytes((models / "vae/ae.safetensors").read_bytes())
    code, out = _generate(comfy, tmp_path, "--vae", str(other_vae), "--text-encoder",
                          str(models / "text_encoders/clip_l.safetensors"))
    assert code == 0, capsys.readouterr().err
    assert out.is_file()


def test_a_missing_part_exits_2_naming_it(comfy, tmp_path, capsys):
    (comfy.parents[1] / "vae/ae.safetensors").unlink()
    code, out = _generate(comfy, tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "No 16-channel VAE for FLUX.1 dev was found (looked in" in err
    assert str(comfy.parents[1] / "vae") in err and err.count("\n") == 1


def test_a_part_of_another_model_exits_2(comfy, tmp_path, capsys):
    sdxl_vae = sp.write(tmp_path / "sdxl_vae.safetensors", sp.vae(4))
    code, _out = _generate(comfy, tmp_path, "--vae", str(sdxl_vae))
    err = capsys.readouterr().err
    assert code == 2
    assert "sdxl_vae.safetensors is a 4-channel VAE, but FLUX.1 dev needs a 16-channel VAE" in err


def test_parts_named_for_a_whole_model_exit_2(tiny_flux, tmp_path, capsys):
    vae = sp.write(tmp_path / "ae.safetensors", sp.vae(16))
    code, _out = _generate(tiny_flux["flux-dev"]["single"], tmp_path, "--vae", str(vae))
    assert code == 2
    assert "--text-encoder and --vae are for a split model" in capsys.readouterr().err
