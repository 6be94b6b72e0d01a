"""A diffusion model kept apart from its parts is assembled from ComfyUI's
sibling folders; parts that do not fit are never offered, and named ones that
do not fit are refused with a message."""

from __future__ import annotations

import pytest
import split_parts as sp
import torch

from artstudio.model_files import identify, other_apps, scan
from artstudio.model_files.component_sets import PartMismatch, assemble


def test_flux_dev_from_a_comfyui_install(tmp_path):
    transformer = sp.comfy_flux_install(tmp_path / "ComfyUI")
    models = tmp_path / "ComfyUI" / "models"
    found = assemble(transformer)
    assert found.complete and found.family == "flux" and found.kind == "flux-dev"
    assert found.label == "FLUX.1 dev: flux1-dev + t5xxl_fp16 + clip_l + ae"
    assert found.text_encoders == (("clip-l", models / "text_encoders/clip_l.safetensors"),
                                   ("t5", models / "text_encoders/t5xxl_fp16.safetensors"))
    assert found.vae == models / "vae/ae.safetensors"
    assert found.variants == ("flux-dev", "flux-kontext")  # the artist says which


def test_alternatives_and_the_older_folder_names(tmp_path):
    transformer = sp.comfy_flux_install(
        tmp_path, t5_names=("t5xxl_fp8_e4m3fn", "t5xxl_fp16"), vae_names=("ae", "flux_vae"),
        clip_folder="clip", unet_folder="unet")
    found = assemble(transformer)
    # The 16-bit encoder first, the fp8 one offered instead.
    assert found.text_encoder("t5").name == "t5xxl_fp16.safetensors"
    assert [p.name for p in found.alternatives_for("t5")] == ["t5xxl_fp8_e4m3fn.safetensors"]
    assert found.vae.name == "ae.safetensors"
    assert [p.name for p in found.alternatives_for("vae")] == ["flux_vae.safetensors"]
    picked = assemble(transformer, text_encoders=[found.alternatives_for("t5")[0]],
                      vae=found.alternatives_for("vae")[0])
    assert picked.text_encoder("t5").name == "t5xxl_fp8_e4m3fn.safetensors"
    assert picked.vae.name == "flux_vae.safetensors" and picked.complete
    assert picked.label == "FLUX.1 dev: flux1-dev + t5xxl_fp8_e4m3fn + clip_l + flux_vae"


def test_parts_of_other_models_are_not_offered(tmp_path):
    models = tmp_path / "models"
    transformer = sp.write(models / "diffusion_models/flux1-schnell.safetensors",
                           sp.flux1(guidance=False))
    sp.write(models / "text_encoders/clip_l.safetensors", sp.clip())
    sp.write(models / "text_encoders/t5_small.safetensors", sp.t5(width=16))  # another width
    sp.write(models / "text_encoders/qwen_3_4b.safetensors", sp.qwen3())
    sp.write(models / "vae/sdxl_vae.safetensors", sp.vae(4))
    sp.write(models / "vae/flux2-vae.safetensors", sp.vae(32))
    found = assemble(transformer)
    assert not found.complete and found.vae is None and found.text_encoder("t5") is None
    assert found.text_encoder("clip-l").name == "clip_l.safetensors"
    assert len(found.missing) == 2
    assert found.missing[0].startswith("No T5-XXL text encoder 32 wide for FLUX.1 schnell")
    assert "No 16-channel VAE for FLUX.1 schnell" in found.missing[1]
    for folder in ("text_encoders", "clip", "vae", "diffusion_models"):
        assert str(models / folder) in found.missing[1]  # says where it looked
    assert found.label == "FLUX.1 schnell: flux1-schnell + clip_l"


@pytest.mark.parametrize("encoders,vae,message", [
    (["qwen_3_4b"], None, "qwen_3_4b.safetensors is a Qwen3 text encoder; FLUX.1 dev takes "
                          "CLIP-L text encoder, T5-XXL text encoder and 16-channel VAE."),
    (["t5_small"], None, "t5_small.safetensors is a T5 text encoder 16 wide, but "
                         "FLUX.1 dev needs one 32 wide: it belongs to another model."),
    ([], "sdxl_vae", "sdxl_vae.safetensors is a 4-channel VAE, but FLUX.1 dev needs a "
                     "16-channel VAE: it belongs to another model."),
    (["ae"], None, "ae.safetensors is a 16-channel VAE, not a text encoder"),
    (["clip_l", "clip_l2"], None, "Two files given for the CLIP-L text encoder"),
])
def test_named_parts_that_do_not_fit_are_refused(tmp_path, encoders, vae, message):
    transformer = sp.write(tmp_path / "flux1-dev.safetensors", sp.flux1())
    sp.write(tmp_path / "qwen_3_4b.safetensors", sp.qwen3())
    sp.write(tmp_path / "t5_small.safetensors", sp.t5(width=16))
    sp.write(tmp_path / "sdxl_vae.safetensors", sp.vae(4))
    sp.write(tmp_path / "ae.safetensors", sp.vae(16))
    sp.write(tmp_path / "clip_l.safetensors", sp.clip())
    sp.write(tmp_path / "clip_l2.safetensors", sp.clip())
    with pytest.raises(PartMismatch) as caught:
        assemble(transformer, [tmp_path / f"{n}.safetensors" for n in encoders],
                 vae=tmp_path / f"{vae}.safetensors" if vae else None)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_part_given_as_the_diffusion_model_is_refused(tmp_path):
    t5 = sp.write(tmp_path / "t5xxl_fp16.safetensors", sp.t5())
    with pytest.raises(PartMismatch, match=r"t5xxl_fp16\.safetensors is a T5 text encoder"):
        assemble(t5)


def test_sd3_with_its_vae_inside_and_no_t5(tmp_path):
    models = tmp_path / "models"
    transformer = sp.write(models / "checkpoints/sd3.5_large.safetensors",
                           sp.sd3(depth=38, vae_inside=True))
    sp.write(models / "clip/clip_g.safetensors", sp.clip_g())
    sp.write(models / "clip/clip_l.safetensors", sp.clip())
    sp.write(models / "vae/ae.safetensors", sp.vae(16))  # not needed: the file holds one
    found = assemble(transformer)
    assert found.complete and found.vae is None and found.inside == ("vae",)
    assert [k for k, _p in found.text_encoders] == ["clip-l", "clip-g"]
    assert found.optional_missing and "T5-XXL" in found.optional_missing[0]
    assert found.variants == ("sd35-large", "sd35-large-turbo")


def test_z_image_takes_the_qwen3_of_its_width(tmp_path):
    models = tmp_path / "models"
    transformer = sp.write(models / "diffusion_models/z_image_turbo_bf16.safetensors",
                           sp.z_image(qwen=20), dtype=torch.bfloat16)
    sp.write(models / "text_encoders/a_qwen3_other.safetensors", sp.qwen3(width=16))
    sp.write(models / "text_encoders/qwen_3_4b.safetensors", sp.qwen3(width=20))
    sp.write(models / "vae/ae.safetensors", sp.vae(16))
    found = assemble(transformer)
    assert found.label == "Z-Image: z_image_turbo_bf16 + qwen_3_4b + ae"
    assert not found.alternatives_for("qwen3")


def test_identify_tells_parts_and_scan_lists_assembled_sets(tmp_path):
    root = tmp_path / "ComfyUI"
    sp.comfy_flux_install(root)
    info = identify.identify(root / "models/diffusion_models/flux1-dev.safetensors")
    assert (info.format, info.kind, info.family) == ("split", "flux-dev", "flux")
    clip = identify.identify(root / "models/text_encoders/clip_l.safetensors")
    assert clip.kind == "component" and "CLIP-L text encoder" in clip.notes[0]

    listed = {i.path.name: i for i in scan.scan([root])}
    flux = listed["flux1-dev.safetensors"]
    assert flux.components.label == "FLUX.1 dev: flux1-dev + t5xxl_fp16 + clip_l + ae"
    assert flux.components.complete
    assert listed["ae.safetensors"].kind == "component"


def test_other_apps_offers_comfyuis_unet_folder(tmp_path):
    sp.write(tmp_path / "ComfyUI/models/unet/flux1-dev.safetensors", sp.flux1())
    found = other_apps.find_other_app_folders(tmp_path)
    assert [f.folder for f in found] == [tmp_path / "ComfyUI/models/unet"]
