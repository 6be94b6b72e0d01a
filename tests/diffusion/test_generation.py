"""Generation through the real loading code, with tiny random models (2 steps, 64 px)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion import generate as diffusion
from artstudio.diffusion import metadata
from artstudio.diffusion.generate import run
from artstudio.diffusion.params import GenerationParams
from artstudio.engine import Engine, JobKind, JobState, Lane
from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.errors import UserFacingError


def _params(model, **kw) -> GenerationParams:
    base = dict(model=str(model), prompt="a red cat", steps=2, width=64, height=64, seed=7,
                device="cpu")
    base.update(kw)
    return GenerationParams(**base)


def _noise_image(w=64, h=64, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def _box_mask(w=64, h=64, box=(20, 16, 44, 40)) -> np.ndarray:
    mask = np.zeros((h, w), np.float32)
    mask[box[1]:box[3], box[0]:box[2]] = 1.0
    return mask


@pytest.mark.parametrize("kind", ["sd1", "sd1-inpaint", "sd2-v", "sdxl-base"])
@pytest.mark.parametrize("fmt", ["diffusers", "single"])
def test_text_to_image_size_mode_and_determinism(tiny, no_progress, token, kind, fmt):
    p = _params(tiny[kind][fmt], count=2)
    first = run(p, no_progress, token)
    assert [im.size for im in first.images] == [(64, 64), (64, 64)]
    assert all(im.mode == "RGB" for im in first.images)
    assert [i.seed for i in first.infos] == [7, 8]
    again = run(dataclasses.replace(p, count=1), no_progress, token)
    assert np.array_equal(np.asarray(again.images[0]), np.asarray(first.images[0]))
    assert not np.array_equal(np.asarray(first.images[0]), np.asarray(first.images[1]))


@pytest.mark.parametrize("kind", ["sd1", "sdxl-base"])
def test_single_file_gives_the_same_image_as_the_diffusers_folder(tiny, no_progress, token, kind):
    a = run(_params(tiny[kind]["diffusers"]), no_progress, token).images[0]
    b = run(_params(tiny[kind]["single"]), no_progress, token).images[0]
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_random_seed_is_reported_and_sizes_are_rounded(tiny, no_progress, token):
    result = run(_params(tiny["sd1"]["diffusers"], seed=None, width=70, height=66),
                 no_progress, token)
    assert result.images[0].size == (64, 64)
    assert "rounded" in result.notes[0]
    assert 0 <= result.infos[0].seed < 2**32


def test_image_to_image(tiny, no_progress, token):
    p = _params(tiny["sd1"]["diffusers"], init_image=_noise_image(96, 64), strength=0.6,
                width=96, height=96, steps=4)
    seen = []
    result = run(p, lambda s, t, m="", preview=None: seen.append((s, t)), token)
    assert result.images[0].size == (96, 64)
    assert seen[-1] == (2, 2)  # 4 steps at strength 0.6 run 2
    assert result.infos[0].metadata["mode"] == "img2img"


@pytest.mark.parametrize("kind", ["sd1", "sd1-inpaint", "sdxl-base"])
def test_inpainting_leaves_unmasked_pixels_exactly_unchanged(tiny, no_progress, token, kind):
    image, mask = _noise_image(), _box_mask()
    p = _params(tiny[kind]["diffusers"], init_image=image, mask=mask, strength=1.0)
    out = np.asarray(run(p, no_progress, token).images[0])
    original = np.asarray(image)
    assert out.shape == original.shape
    assert np.array_equal(out[mask == 0], original[mask == 0])
    assert not np.array_equal(out[mask == 1], original[mask == 1])


def test_only_masked_area_crops_around_the_mask(tiny, no_progress, token):
    image = _noise_image(160, 120, seed=3)
    mask = _box_mask(160, 120, box=(100, 70, 120, 90))
    p = _params(tiny["sd1-inpaint"]["diffusers"], init_image=image, mask=mask, only_masked=True,
                mask_padding=8, width=160, height=120)
    result = run(p, no_progress, token)
    out, original = np.asarray(result.images[0]), np.asarray(image)
    assert out.shape == original.shape
    assert np.array_equal(out[mask == 0], original[mask == 0])
    left, top, right, bottom = result.infos[0].metadata["crop"]
    assert left <= 92 and top <= 62 and right >= 128 and bottom >= 98
    assert right - left < 160  # a crop, not the whole picture


def test_outpainting_extends_the_canvas(tiny, no_progress, token):
    image = _noise_image(64, 64)
    p = _params(tiny["sd1-inpaint"]["diffusers"], init_image=image, outpaint=(32, 0, 16, 8),
                strength=1.0)
    result = run(p, no_progress, token)
    out = np.asarray(result.images[0])
    assert out.shape == (72, 112, 3)
    # well inside the original (away from the 16 px blended seam) nothing changed
    assert np.array_equal(out[0:48, 48:80], np.asarray(image)[0:48, 16:48])
    assert result.infos[0].metadata["mode"] == "outpaint"


def test_progress_reports_steps_and_previews(tiny, token):
    calls = []
    run(_params(tiny["sdxl-base"]["diffusers"], steps=3, count=2),
        lambda s, t, m="", preview=None: calls.append((s, t, preview)), token)
    steps = [(s, t) for s, t, _ in calls if t == 6]
    assert steps[:6] == [(i, 6) for i in range(1, 7)]
    previews = [p for *_, p in calls if p is not None]
    assert previews and previews[0].mode == "RGB" and min(previews[0].size) >= 128


def test_cancel_mid_run_raises_without_decoding(tiny, monkeypatch):
    from artstudio.diffusion.loading import get_model

    model = get_model(tiny["sd1"]["diffusers"], device="cpu")
    decodes = []
    real = model.pipe.vae.decode
    monkeypatch.setattr(model.pipe.vae, "decode",
                        lambda *a, **k: decodes.append(1) or real(*a, **k))
    token = CancelToken()
    steps_seen = []

    def progress(step, total, message="", preview=None):
        steps_seen.append(step)
        if step == 1:
            token.cancel()

    with pytest.raises(Cancelled):
        run(_params(tiny["sd1"]["diffusers"], steps=6), progress, token)
    assert decodes == []
    assert max(steps_seen) <= 1  # stopped within one step
    # the same cached pipeline still works afterwards
    run(_params(tiny["sd1"]["diffusers"]), lambda *a, **k: None, CancelToken())
    assert decodes == [1]


def test_generation_runs_as_an_engine_job(tiny):
    engine = Engine(pool_workers=1)
    try:
        events = []
        engine.subscribe(events.append)
        handle = engine.submit(diffusion.run, _params(tiny["sd1"]["single"]),
                               kind=JobKind.GENERATE, lane=Lane.ACCELERATOR, title="tiny")
        assert handle.wait(120) is JobState.DONE, handle.error
        assert handle.result.images[0].size == (64, 64)
        assert any(e.progress and e.progress.preview is not None for e in events)
        cancelled = engine.submit(diffusion.run, _params(tiny["sd1"]["single"], steps=50),
                                  kind=JobKind.GENERATE, lane=Lane.ACCELERATOR)
        cancelled.cancel()
        assert cancelled.wait(120) is JobState.CANCELLED
    finally:
        engine.shutdown()


def test_bad_requests_fail_early_with_clear_messages(tiny, no_progress, token, tmp_path):
    with pytest.raises(UserFacingError, match="Steps"):
        run(_params(tiny["sd1"]["diffusers"], steps=0), no_progress, token)
    with pytest.raises(ValueError, match="sampler"):
        run(_params(tiny["sd1"]["diffusers"], scheduler="nope"), no_progress, token)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(UserFacingError, match="cannot be used"):
        run(_params(junk), no_progress, token)
    with pytest.raises(UserFacingError, match="empty"):
        run(_params(tiny["sd1"]["diffusers"], init_image=_noise_image(),
                    mask=np.zeros((64, 64))), no_progress, token)


@pytest.mark.parametrize("sampler", ["euler", "euler_a", "dpmpp_2m", "dpmpp_2m_karras", "ddim",
                                     "lcm"])
def test_every_sampler_runs(tiny, no_progress, token, sampler):
    result = run(_params(tiny["sd1"]["diffusers"], scheduler=sampler), no_progress, token)
    assert result.images[0].size == (64, 64)


def test_generate_to_files_writes_pngs_that_restore_settings(tiny, tmp_path):
    p = _params(tiny["sd1"]["diffusers"], count=2, negative_prompt="blurry", cfg_scale=5.5,
                scheduler="dpmpp_2m_karras")
    paths = diffusion.generate_to_files(p, tmp_path / "out")
    assert [x.name for x in paths] == ["7.png", "8.png"]
    settings = metadata.read_settings(paths[1])
    assert settings["seed"] == 8 and settings["cfg_scale"] == 5.5
    assert settings["scheduler"] == "dpmpp_2m_karras" and settings["negative_prompt"] == "blurry"
    text = Image.open(paths[0]).text["parameters"]
    assert "Sampler: DPM++ 2M Karras" in text and "Seed: 7" in text
    restored = dataclasses.replace(p, **{k: v for k, v in settings.items()
                                         if k in {f.name for f in dataclasses.fields(p)}})
    assert restored.seed == 8 and restored.prompt == p.prompt


def test_erase_without_a_model_keeps_unmasked_pixels(no_progress, token):
    from artstudio.erase import EraseParams, erase_run

    image, mask = _noise_image(), _box_mask()
    for method in ("telea", "navier-stokes"):
        out = np.asarray(erase_run(
            EraseParams(image=image, mask=mask, method=method), no_progress, token))
        assert np.array_equal(out[mask == 0], np.asarray(image)[mask == 0])


def test_self_test_builds_loads_and_generates(tmp_path):
    from artstudio.selftest.diffusion import check_diffusion

    line = check_diffusion(tmp_path)
    assert "64x64" in line


def test_taesd_decoders_are_told_apart_by_the_names_their_family_lists(tmp_path):
    """TAESD for SD1/SD2 and for SDXL share one config: a hub cache snapshot of
    madebyollin/taesdxl serves SDXL only, a folder named taesd serves SD1 and SD2."""
    import json

    from artstudio.diffusion.previews import find_taesd

    config = {"_class_name": "AutoencoderTiny", "latent_channels": 4}
    xl = tmp_path / "hub" / "models--madebyollin--taesdxl" / "snapshots" / "abc123"
    sd = tmp_path / "models" / "VAE" / "taesd"
    for folder in (xl, sd):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(config))
    roots = [tmp_path / "hub", tmp_path / "models"]
    assert find_taesd(roots, "sdxl") == xl
    assert find_taesd(roots, "sd1") == sd
    assert find_taesd(roots, "sd2") == sd
    assert find_taesd([tmp_path / "hub"], "sd1") is None
    nested = tmp_path / "other" / "TAESD" / "taesdxl"  # the folder's own name decides
    nested.mkdir(parents=True)
    (nested / "config.json").write_text(json.dumps(config))
    assert find_taesd([tmp_path / "other"], "sd1") is None
    assert find_taesd([tmp_path / "other"], "sdxl") == nested


def test_taesd_previews_when_the_artist_has_one(tiny, tmp_path, no_progress, token):
    """A TAESD folder in the model folders gives true decoded previews (8x the
    latent size) instead of the linear projection."""
    from diffusers import AutoencoderTiny

    from artstudio.diffusion.previews import find_taesd

    models = tmp_path / "models"
    AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8),
                    decoder_block_out_channels=(8, 8, 8, 8),
                    num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1),
                    ).save_pretrained(models / "taesd")
    (models / "notes").mkdir()
    (models / "notes" / "config.json").write_text('{"_class_name": "UNet2DModel"}')
    assert find_taesd([models], "sd1") == models / "taesd"
    assert find_taesd([models], "sdxl") is None
    previews = []

    def progress(step, total, message="", preview=None):
        if preview is not None:
            previews.append(preview.size)

    params = GenerationParams(model=str(tiny["sd1"]["diffusers"]), prompt="x", steps=2,
                              width=64, height=64, seed=1,
                              preview_decoder=str(models / "taesd"))
    run(params, progress, token)
    latent_side = 64 // 2  # the tiny test VAE downsamples once
    assert previews and previews[0] == (latent_side * 8, latent_side * 8)
