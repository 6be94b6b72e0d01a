"""On the CPU a spandrel upscaler runs channels-last (oneDNN's faster
convolutions, bench/upscale_batch.py) and gives what a plain forward pass of
the same file gives."""

from __future__ import annotations

import numpy as np
import torch

from artstudio.upscale.upscaling import load_upscaler


def test_a_cpu_upscaler_runs_channels_last_with_a_plain_forward_pass_result(tmp_path):
    from spandrel import ModelLoader
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(3)
    path = tmp_path / "esrgan-x2.pth"
    torch.save(ESRGAN(num_filters=8, num_blocks=1, scale=2).state_dict(), path)
    model = load_upscaler(path, "cpu")
    convs = [p for p in model.descriptor.model.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)

    rgb = np.random.default_rng(0).random((40, 56, 3), dtype=np.float32)
    plain = ModelLoader().load_from_state_dict(torch.load(path, weights_only=True)).model.eval()
    with torch.inference_mode():
        expected = plain(torch.from_numpy(rgb.transpose(2, 0, 1).copy())[None])
    expected = expected[0].clamp(0, 1).permute(1, 2, 0).numpy()
    got = model.run(rgb)
    assert got.shape == (80, 112, 3)
    assert np.abs(got - expected).max() < 1e-5
