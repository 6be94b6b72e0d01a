"""Upscaling with spandrel models (random tiny ones the tests build), tiling,
out-of-memory recovery, alpha, exact sizes, seamless textures, refusals."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from artstudio.engine.errors import UserFacingError
from artstudio.upscale import tiler
from artstudio.upscale import upscaling as up
from artstudio.upscale.protocol import Upscaler
from artstudio.upscale.spandrel_models import SpandrelUpscaler
from artstudio.upscale.upscaling import UpscaleOptions, load_upscaler, upscale


def compact(scale: int, seed: int = 0):
    from spandrel.architectures.Compact import Compact as SRVGGNetCompact

    torch.manual_seed(seed)
    return SRVGGNetCompact(num_feat=8, num_conv=2, upscale=scale)


def esrgan(scale: int = 4):
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(1)
    return ESRGAN(num_filters=8, num_blocks=1, scale=scale)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("upscalers")
    made = {}
    for scale in (2, 3, 4):
        net = compact(scale)
        torch.save(net.state_dict(), folder / f"compact-x{scale}.pth")
        made[f"compact{scale}"] = folder / f"compact-x{scale}.pth"
    state = {k: v.contiguous() for k, v in compact(2, seed=5).state_dict().items()}
    save_file(state, str(folder / "compact-x2.safetensors"))
    made["safetensors"] = folder / "compact-x2.safetensors"
    torch.save(esrgan().state_dict(), folder / "esrgan-x4.pth")
    made["esrgan"] = folder / "esrgan-x4.pth"
    return made


def photo(h: int = 48, w: int = 64, alpha: bool = False) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) * 127 // (w + h)], -1)
    rgb = np.clip(rgb + rng.normal(0, 10, rgb.shape), 0, 255).astype(np.uint8)
    a = np.full((h, w, 1), 255, np.uint8)
    if alpha:
        a[:, : w // 2] = 0
    return np.concatenate([rgb, a], axis=2)


@pytest.mark.parametrize("name,scale", [("compact2", 2), ("compact3", 3), ("compact4", 4),
                                        ("safetensors", 2), ("esrgan", 4)])
def test_loads_and_upscales_by_the_models_scale(models, name, scale):
    model = load_upscaler(models[name], "cpu")
    assert model.scale == scale
    out = upscale(photo(), UpscaleOptions(model=str(models[name]), device="cpu"))
    assert out.shape == (48 * scale, 64 * scale, 4) and out.dtype == np.uint8


@pytest.mark.parametrize("scale", [1.5, 2.0, 3.0, 2.5])
def test_output_scale_independent_of_model(models, scale):
    out = upscale(photo(), UpscaleOptions(model=str(models["compact4"]), scale=scale,
                                          device="cpu"))
    assert out.shape[:2] == (round(48 * scale), round(64 * scale))


def test_tiled_matches_whole_within_a_few_levels(models):
    model = load_upscaler(models["compact2"], "cpu")
    rgb = photo(96, 128)[..., :3].astype(np.float32) / 255
    whole = tiler.upscale_array(model, rgb, tile=512)
    tiled = tiler.upscale_array(model, rgb, tile=40, overlap=8)
    assert whole.dtype == np.uint8 and whole.shape == (192, 256, 3)
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 4


# The second case: halves that each kept the whole overlap stopped shrinking
# at twice the overlap (and looped); there tiles must go below that, shorter
# than their fades (2 x 40 px of context leave at most 40 px of tile).
@pytest.mark.parametrize("tile,overlap,limit", [(96, 8, 60), (160, 40, 120)])
def test_out_of_memory_halves_the_tile_and_carries_on(models, monkeypatch, tile, overlap,
                                                     limit):
    model = load_upscaler(models["compact2"], "cpu")
    rgb = photo(96, 128)[..., :3].astype(np.float32) / 255
    whole = tiler.upscale_array(model, rgb, tile=512)
    real_run = SpandrelUpscaler.run
    sizes = []

    def tight_memory(self, patch):
        sizes.append(patch.shape[:2])
        if max(patch.shape[:2]) > limit:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_run(self, patch)

    monkeypatch.setattr(SpandrelUpscaler, "run", tight_memory)
    tiled = tiler.upscale_array(model, rgb, tile=tile, overlap=overlap)
    assert any(max(s) > limit for s in sizes) and any(max(s) <= limit for s in sizes)
    assert tiled.shape == whole.shape
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 4


def test_alpha_is_upscaled_and_kept(models):
    out = upscale(photo(alpha=True), UpscaleOptions(model=str(models["compact2"]),
                                                    device="cpu"))
    assert out[..., 3][:, :40].max() < 60 and out[..., 3][:, 90:].min() > 200


def test_seamless_keeps_a_tileable_texture_tileable(models):
    model = load_upscaler(models["compact2"], "cpu")
    yy, xx = np.mgrid[0:32, 0:64].astype(np.float32)
    phase = 2 * np.pi * xx / 64  # periodic across the width, not mirror-symmetric
    texture = np.stack([0.5 + 0.3 * np.sin(phase + k) + 0.1 * np.sin(2 * phase + 2 * k)
                        + 0.05 * np.cos(yy / 5) for k in (0.0, 1.3, 2.6)], -1)
    texture = texture.astype(np.float32)
    plain = tiler.upscale_array(model, texture, tile=512, overlap=8)
    wrapped = tiler.upscale_array(model, texture, tile=512, overlap=8, seamless=True)
    twice = tiler.upscale_array(model, np.concatenate([texture, texture], axis=1), tile=512,
                              overlap=8)
    plain, wrapped, twice = (a.astype(np.float32) for a in (plain, wrapped, twice))
    seam = twice.shape[1] // 2
    # Seamless: the result's right edge continues into its left edge as the
    # upscale of the repeated texture does at its middle.
    wrapped_error = np.abs(wrapped[:, -2:] - twice[:, seam - 2:seam]).mean()
    plain_error = np.abs(plain[:, -2:] - twice[:, seam - 2:seam]).mean()
    assert wrapped_error < 0.05 < plain_error


def test_lanczos_without_a_model():
    out = upscale(photo(), UpscaleOptions(model=None, scale=2))
    assert out.shape == (96, 128, 4)


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    bad = tmp_path / "evil-x4.pth"
    with bad.open("wb") as fh:
        pickle.dump({"weight": Payload()}, fh)
    with pytest.raises(UserFacingError):
        load_upscaler(bad, "cpu")
    assert not marker.exists()


def test_a_non_upscaler_is_refused(tmp_path):
    net = torch.nn.Linear(3, 3)
    path = tmp_path / "not-sr.pth"
    torch.save(net.state_dict(), path)
    with pytest.raises(UserFacingError, match="not an upscaler"):
        load_upscaler(path, "cpu")


def test_rows_come_in_bands_capped_in_memory_and_match_the_whole(models):
    model = load_upscaler(models["compact2"], "cpu")
    rgba = photo(96, 128, alpha=True)
    whole = tiler.upscale_array(model, rgba, tile=512)
    # A band budget this small forces short tiles and many bands.
    budget = 128 * 2 * 5 * 4 * 2 * 48
    assert tiler.band_tile_height(128, 2, 4, 512, 8, budget) < 96
    blocks = list(tiler.upscale_rows(model, rgba, tile=512, overlap=8, band_bytes=budget))
    assert len(blocks) > 1 and sum(len(b) for b in blocks) == 192
    banded = np.concatenate(blocks)
    assert np.abs(whole.astype(int) - banded.astype(int)).max() <= 4
    assert banded[:, :100, 3].max() < 60  # transparent half stays transparent


def test_result_at_the_models_scale_streams(models):
    options = UpscaleOptions(model=str(models["compact2"]), device="cpu")
    stream = up.upscale_for_writing(photo(), options)
    assert isinstance(stream, up.UpscaleStream) and stream.opaque
    assert (stream.width, stream.height) == (128, 96)
    assert np.array_equal(stream.to_array(), upscale(photo(), options))
    other = up.upscale_for_writing(photo(), UpscaleOptions(model=str(models["compact2"]),
                                                           scale=1.5, device="cpu"))
    assert isinstance(other, np.ndarray) and other.shape == (72, 96, 4)


@pytest.fixture(scope="module")
def sd_x4(tmp_path_factory):
    from tiny_pipelines import save_tiny_x4_upscaler

    return save_tiny_x4_upscaler(tmp_path_factory.mktemp("sdx4") / "tiny-x4-upscaler")


def test_stable_diffusion_x4_upscaler_folder_is_identified_and_runs_tiled(sd_x4):
    from artstudio.model_files.identify import identify

    info = identify(sd_x4)
    assert (info.kind, info.family, info.format) == ("upscaler", "upscaler", "diffusers")
    rgba = photo(24, 40, alpha=True)
    options = UpscaleOptions(model=str(sd_x4), device="cpu", steps=2, tile=32, overlap=8,
                             prompt="a red cat")
    out = upscale(rgba, options)
    assert out.shape == (96, 160, 4) and out.dtype == np.uint8
    assert out[:, :60, 3].max() < 60 and out[:, 100:, 3].min() > 200  # alpha kept apart
    assert np.array_equal(out, upscale(rgba, options))  # seeded: the same twice


def test_stable_diffusion_upscaler_cancels_within_a_step(sd_x4):
    from artstudio.engine import CancelToken
    from artstudio.engine.cancel import Cancelled

    token = CancelToken()
    token.cancel()
    model = load_upscaler(sd_x4, "cpu").with_options(UpscaleOptions(steps=5), token)
    with pytest.raises(Cancelled):
        model.run(np.zeros((16, 16, 3), np.float32))


def test_every_upscaler_kind_has_the_one_interface(models, sd_x4):
    spandrel = load_upscaler(models["compact2"], "cpu")
    diffusion = load_upscaler(sd_x4, "cpu")
    assert isinstance(spandrel, Upscaler) and isinstance(diffusion, Upscaler)
    assert (spandrel.scale, diffusion.scale) == (2, 4)
    # the tile follows free memory for spandrel, the training size for SD x4
    assert spandrel.preferred_tile >= tiler.MIN_TILE and diffusion.preferred_tile == 128


def test_a_folder_that_is_not_an_upscaler_is_refused(tmp_path):
    with pytest.raises(UserFacingError, match="not Stable Diffusion's x4 upscaler"):
        load_upscaler(tmp_path, "cpu")


def test_rgb_input_and_a_large_overlap_in_a_tight_band(models):
    out = upscale(photo()[..., :3], UpscaleOptions(model=str(models["compact2"]), device="cpu"))
    assert out.shape == (96, 128, 4) and (out[..., 3] == 255).all()
    model = load_upscaler(models["compact2"], "cpu")
    rgba = photo(96, 128)
    whole = tiler.upscale_array(model, rgba, tile=512)
    blocks = list(tiler.upscale_rows(model, rgba, tile=128, overlap=40, band_bytes=1))
    assert sum(len(b) for b in blocks) == 192
    assert np.abs(np.concatenate(blocks).astype(int) - whole.astype(int)).max() <= 4


def test_upscalers_in_the_model_folders_are_found(models, sd_x4, tmp_path):
    import shutil

    folder = tmp_path / "ComfyUI"
    (folder / "models" / "upscale_models").mkdir(parents=True)
    shutil.copy(models["esrgan"], folder / "models" / "upscale_models" / "4x-Test.pth")
    shutil.copytree(sd_x4, folder / "x4-upscaler")
    (folder / "notes.pth").write_bytes(b"not a model")
    found = up.find_upscalers([str(folder)])
    names = [info.name for info in found]
    assert "4x-Test" in names and "x4-upscaler" in names and "notes" not in names
