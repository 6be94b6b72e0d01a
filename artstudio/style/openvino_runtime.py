"""The style networks through OpenVINO (`pip install 'artstudio[fast]'`)
on the CPU, where it runs the shipped ONNX files with less CPU than
onnxruntime's CPU provider (docs/benchmarks.md). Used only when onnxruntime
has no accelerated provider here: CUDA, DirectML and CoreML still win."""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from artstudio.engine.openvino_core import available, compiled_cache, new_core
from artstudio.style.openvino_graph import fix_inputs, fuse_instance_norms, with_pixel_io

__all__ = ["PROVIDER", "OpenVinoSession", "available", "compiled_cache"]

PROVIDER = "OpenVINO"  # what `get_providers` names, like onnxruntime's names


# Compiled networks kept per set of fixed inputs (a batch uses one style;
# a person trying styles goes back and forth between a few).
VARIANTS_KEPT = 2


class _Variant:
    """One compiled network and its idle requests (one per stream)."""

    def __init__(self, compiled: Any, streams: int) -> None:
        self.compiled = compiled
        self.inputs = [port.get_any_name() for port in compiled.inputs]
        self.requests: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(streams):
            self.requests.put(compiled.create_infer_request())


class OpenVinoSession:
    """A network compiled with dynamic shapes (a folder's images are of
    every size; compiling per size cost more than it won), run with
    onnxruntime's session interface so the engines need not know which
    runtime they got.

    Inputs that are plain vectors (the multistyle network's style weights)
    are compiled in as constants, with the instance norms fused
    (`openvino_graph`): a batch keeps one style, so it compiles once, and
    each image then takes about a fifth less CPU (docs/benchmarks.md). The
    last few compiled are kept.

    streams=1: one request at a time using every core (the latency hint:
    a single picture is done soonest). streams=2: two requests at once, the
    cores split between them (the throughput hint), for a batch that keeps
    two images in flight (docs/benchmarks.md)."""

    def __init__(self, path: Path, threads: int | None = None, streams: int = 1) -> None:
        self._core = new_core()
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if streams > 1:
            config = {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": int(streams)}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        self._config = config
        self.streams = max(1, int(streams))
        self._model = self._core.read_model(str(path))
        self._inputs = [port.get_any_name() for port in self._model.inputs]
        self._fixed = [port.get_any_name() for port in self._model.inputs
                       if port.get_partial_shape().rank.get_length() == 1]
        self._lock = threading.Lock()
        self._variants: OrderedDict[bytes, _Variant] = OrderedDict()
        if not self._fixed:
            # From the path, so the kept compiled network is found by the file.
            self._variants[b""] = _Variant(core_compile(self._core, str(path), config),
                                           self.streams)

    def _variant(self, feeds: dict[str, Any], pixels: str | None = None) -> _Variant:
        values = {name: np.ascontiguousarray(feeds[name], np.float32) for name in self._fixed}
        key = b"".join(values[name].tobytes() for name in self._fixed)
        if pixels is not None:
            key += b"\0pixels:" + pixels.encode()
        with self._lock:
            variant = self._variants.get(key)
            if variant is None:
                model = self._model.clone()
                fix_inputs(model, values)
                fuse_instance_norms(model)
                if pixels is not None:
                    model = with_pixel_io(model, pixels)
                variant = _Variant(core_compile(self._core, model, self._config), self.streams)
                self._variants[key] = variant
                while len(self._variants) > VARIANTS_KEPT:
                    self._variants.popitem(last=False)
            self._variants.move_to_end(key)
            return variant

    def run(self, _output_names: Any, feeds: dict[str, Any]) -> list[Any]:
        return _infer(self._variant(feeds), feeds)

    def run_pixels(self, image: str, rgb: np.ndarray, feeds: dict[str, Any]) -> np.ndarray:
        """The network on 8-bit pixels: `rgb` (HxWx3 uint8) as the input
        `image` (NCHW float 0..1 in the file), the other inputs from
        `feeds`; the output as HxWx3 uint8 (`openvino_graph.with_pixel_io`),
        for networks whose output is NCHW 0..1, as the multistyle one's."""
        feeds = {**feeds, image: np.ascontiguousarray(rgb, np.uint8)[None]}
        return _infer(self._variant(feeds, pixels=image), feeds)[0][0]

    def get_inputs(self) -> list[SimpleNamespace]:
        """The inputs in the file's order, each with a `name`."""
        return [SimpleNamespace(name=name) for name in self._inputs]

    def get_providers(self) -> list[str]:
        return [PROVIDER]


def core_compile(core: Any, model: Any, config: dict[str, Any]) -> Any:
    return core.compile_model(model, "CPU", config)


def _infer(variant: _Variant, feeds: dict[str, Any]) -> list[Any]:
    # A call waits for a free request: at most `streams` images are in the
    # network whatever the number of callers.
    request = variant.requests.get()
    try:
        result = request.infer([feeds[name] for name in variant.inputs])
        return [result[port].copy() for port in variant.compiled.outputs]
    finally:
        variant.requests.put(request)
