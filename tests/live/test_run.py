"""The live job works at the model's size and hands back the frame's."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artstudio.diffusion.params import GenerationParams
from artstudio.engine import CancelToken, UserFacingError
from artstudio.live.run import live_run


@pytest.fixture(scope="module")
def tiny_sd1(tmp_path_factory):
    from tiny_pipelines import save_tiny_models

    return save_tiny_models(tmp_path_factory.mktemp("live-run"), kinds=("sd1",))["sd1"]


def test_a_frame_larger_than_the_model_is_worked_at_its_size_and_scaled_back(tiny_sd1):
    frame = Image.fromarray(np.full((120, 200, 3), 90, np.uint8), "RGB")
    params = GenerationParams(model=str(tiny_sd1["diffusers"]), prompt="a field", steps=2,
                              strength=0.5, init_image=frame, device="cpu")
    result = live_run(params, lambda *a, **k: None, CancelToken())
    assert result.images[0].size == (200, 120)
    info = result.infos[0]
    assert max(info.width, info.height) == 64  # the tiny model's own size


def test_a_model_that_cannot_load_fails_with_a_message(tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a model at all")
    params = GenerationParams(model=str(broken), init_image=Image.new("RGB", (64, 64)),
                              device="cpu")
    with pytest.raises(UserFacingError, match="broken"):
        live_run(params, lambda *a, **k: None, CancelToken())


def test_on_the_cpu_a_run_leaves_a_core_and_gives_it_back(monkeypatch):
    import torch

    from artstudio.live import run

    monkeypatch.setattr(run, "_cores", lambda: 4)
    before = torch.get_num_threads()
    with run.leave_a_core("cpu"):
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == before
    with run.leave_a_core("cuda"):
        assert torch.get_num_threads() == before


def test_the_model_sees_a_transparent_canvas_as_white():
    from artstudio.document.compose import over_white

    rgba = np.array([[[10, 20, 30, 0], [10, 20, 30, 255], [0, 0, 0, 128]]], np.uint8)
    assert over_white(rgba).tolist() == [[[255, 255, 255], [10, 20, 30], [127, 127, 127]]]
