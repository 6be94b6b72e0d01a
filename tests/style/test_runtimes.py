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
