"""A network built on one thread while diffusers loads a model on another
gets real weights: accelerate's meta-device patch is process-wide, so
building waits for the load to finish (artstudio.engine.network_building)."""

from __future__ import annotations

import threading

import pytest
import torch
from accelerate import init_empty_weights

from artstudio.engine.network_building import NETWORK_BUILDING
from artstudio.selftest.random_models import save_random_generator
from artstudio.style.cyclegan import load_generator


@pytest.fixture
def loading_elsewhere():
    """Another thread inside a diffusers-style load (holding the lock, as
    load_model does, with the meta-device patch on) until released."""
    inside, release = threading.Event(), threading.Event()

    def load():
        with NETWORK_BUILDING, init_empty_weights():
            inside.set()
            release.wait(30)

    thread = threading.Thread(target=load)
    thread.start()
    assert inside.wait(10)
    yield release
    release.set()
    thread.join(10)


def _in_thread(fn):
    box: dict = {}
    done = threading.Event()

    def run():
        try:
            box["value"] = fn()
        except Exception as exc:  # reported to the test below
            box["error"] = exc
        done.set()

    threading.Thread(target=run).start()
    return box, done


def test_a_cyclegan_saved_and_loaded_during_a_load_elsewhere_has_real_weights(
        tmp_path, loading_elsewhere):
    path = tmp_path / "painter.pth"

    def save_and_load():
        save_random_generator(path, n_blocks=2, ngf=8)
        return load_generator(path)

    box, done = _in_thread(save_and_load)
    assert not done.wait(1.0), box  # it waits for the load, instead of building on meta
    loading_elsewhere.set()
    assert done.wait(30)
    assert "error" not in box, box["error"]
    net = box["value"]
    assert all(p.device.type == "cpu" for p in net.parameters())
    saved = torch.load(path, weights_only=True)
    assert saved["model.1.weight"].device.type == "cpu"
    assert torch.equal(net.state_dict()["model.1.weight"], saved["model.1.weight"])
    assert float(saved["model.1.weight"].abs().sum()) > 0  # initialised, not skipped
