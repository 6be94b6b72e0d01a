"""A CycleGAN file that almost fits says which weight does not."""

from __future__ import annotations

import pytest
import torch

from artstudio.selftest.random_models import save_random_generator
from artstudio.style.cyclegan import NotACycleGANError, load_generator


def test_a_weight_of_the_wrong_shape_is_named(tmp_path):
    path = tmp_path / "painter.pth"
    save_random_generator(path, n_blocks=6, ngf=8)
    state = torch.load(path, weights_only=True)
    key = "model.10.conv_block.1.weight"
    state[key] = torch.zeros(8, 32, 3, 3)  # a block convolution with the wrong input width
    torch.save(state, path)
    with pytest.raises(NotACycleGANError) as caught:
        load_generator(path)
    message = str(caught.value)
    assert "do not fit a CycleGAN generator" in message
    assert key in message and "size mismatch" in message
