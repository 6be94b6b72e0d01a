"""Which runtime runs the ONNX style networks: an accelerated onnxruntime
provider (CUDA, CoreML, DirectML) whenever there is one; on a CPU, OpenVINO
when it is installed (the `fast` extra), with onnxruntime's pixels
within a level; onnxruntime's CPU provider otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.engine.model_cache import shared_cache
from artstudio.style import onnx_runtime as rt
from artstudio.style import openvino_runtime
from artstudio.style.transfer import StyleOptions, stylize


@pytest.fixture(autouse=True)
def fresh_sessions():
    shared_cache().unload_all()
    yield
    shared_cache().unload_all()


def picture(h=72, w=90):
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    return rgba


@pytest.mark.parametrize("available,first", [
    (["CUDAExecutionProvider", "CPUExecutionProvider"], "CUDAExecutionProvider"),
    (["DmlExecutionProvider", "CPUExecutionProvider"], "DmlExecutionProvider"),
    (["CoreMLExecutionProvider", "CPUExecutionProvider"], "CoreMLExecutionProvider"),
])
def test_an_accelerated_provider_is_chosen_over_openvino(monkeypatch, available, first):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: available)
    monkeypatch.setattr(openvino_runtime, "available", lambda: True)
    made = []

    class Session:  # stands in for onnxruntime's: no GPU runtime is needed to check the choice
        def __init__(self, path, opts, providers):
            made.append(providers)

        def get_providers(self):
            return made[-1]

    monkeypatch.setattr(ort, "InferenceSession", Session)
    sess = rt.session(rt.MULTISTYLE)
    assert made == [[first, "CPUExecutionProvider"]]
    assert rt.session_device(sess) == first.replace("ExecutionProvider", "").lower()


def test_without_openvino_the_cpu_runs_onnxruntime(monkeypatch):
    monkeypatch.setattr(openvino_runtime, "available", lambda: False)
    sess = rt.session(rt.MULTISTYLE, "cpu")
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert rt.session_device(sess) == "cpu"


@pytest.mark.skipif(not openvino_runtime.available(), reason="openvino is not installed")
def test_openvino_runs_the_cpu_styles_within_a_level_of_onnxruntime(monkeypatch):
    rgba = picture()
    options = StyleOptions.builtin("3:0.7,lilac:0.3")
    with_openvino = stylize(rgba, options)
    assert rt.session_device(rt.session(rt.MULTISTYLE)) == "cpu (openvino)"
    shared_cache().unload_all()
    monkeypatch.setattr(openvino_runtime, "available", lambda: False)
    with_onnxruntime = stylize(rgba, options)
    assert rt.session_device(rt.session(rt.MULTISTYLE)) == "cpu"
    diff = np.abs(with_openvino.astype(np.int16) - with_onnxruntime.astype(np.int16))
    assert with_openvino.shape == rgba.shape and diff.max() <= 1
    # Another size through the same compiled network (dynamic shapes).
    other = stylize(picture(40, 52), options)
    assert other.shape == (40, 52, 4)


@pytest.mark.parametrize("openvino", [False, True])
def test_a_cpu_batch_runs_two_images_at_once_with_the_same_pixels(monkeypatch, openvino):
    """Set to two streams, the batch's processor asks for two calls at once
    on a CPU of two or more cores; the two-stream network gives what the
    one-stream one does, also for two different sizes in it together."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from artstudio.style.transfer import style_processor

    if openvino and not openvino_runtime.available():
        pytest.skip("openvino is not installed")
    if not openvino:
        monkeypatch.setattr(openvino_runtime, "available", lambda: False)
    assert style_processor(StyleOptions.builtin(1, device="cpu")).calls_at_once == 1  # default
    monkeypatch.setattr(rt, "CPU_BATCH_STREAMS", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    options = StyleOptions.builtin("frost", device="cpu")
    pictures = [picture(72, 90), picture(40, 52)]
    alone = [stylize(p, options) for p in pictures]
    process = style_processor(options)
    assert process.calls_at_once == 2
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(process, pictures))
    for a, b in zip(alone, together, strict=True):
        assert a.shape == b.shape
        assert np.abs(a.astype(np.int16) - b.astype(np.int16)).max() <= 1
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert style_processor(options).calls_at_once == 1


def test_an_accelerated_batch_keeps_one_image_in_the_network(monkeypatch):
    import onnxruntime as ort

    from artstudio.style.transfer import batch_streams

    monkeypatch.setattr(rt, "CPU_BATCH_STREAMS", 2)
    monkeypatch.setattr(ort, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert batch_streams(StyleOptions.builtin(3)) == 1
    assert batch_streams(StyleOptions.builtin(3, device="cpu")) in (1, 2)


@pytest.mark.skipif(not openvino_runtime.available(), reason="openvino is not installed")
def test_openvino_keeps_the_compiled_network_for_the_next_start():
    from artstudio.paths import data_dir

    options = StyleOptions.builtin(5, device="cpu")
    first = stylize(picture(), options)
    kept = list((data_dir() / "cache" / "openvino").iterdir())
    assert kept and all(p.stat().st_size > 100_000 for p in kept)
    shared_cache().unload_all()  # a new session: compiled from what was kept
    again = stylize(picture(), options)
    np.testing.assert_array_equal(first, again)
    assert sorted((data_dir() / "cache" / "openvino").iterdir()) == sorted(kept)


@pytest.mark.skipif(not openvino_runtime.available(), reason="openvino is not installed")
def test_an_unwritable_data_folder_only_costs_the_compile(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder would be")
    monkeypatch.setenv("ARTSTUDIO_HOME", str(blocker))
    assert openvino_runtime.compiled_cache() is None
    assert stylize(picture(), StyleOptions.builtin(5, device="cpu")).shape == (72, 90, 4)
