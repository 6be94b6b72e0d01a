"""The style networks through OpenVINO (`pip install 'artstudio[fast]'`)
on the CPU, where it runs the shipped ONNX files with less CPU than
onnxruntime's CPU provider (docs/benchmarks.md). Used only when onnxruntime
has no accelerated provider here: CUDA, DirectML and CoreML still win."""

from __future__ import annotations

import queue
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from artstudio.engine.openvino_core import available, compiled_cache, new_core

__all__ = ["PROVIDER", "OpenVinoSession", "available", "compiled_cache"]

PROVIDER = "OpenVINO"  # what `get_providers` names, like onnxruntime's names


class OpenVinoSession:
    """A network compiled once with dynamic shapes (a folder's images are of
    every size; compiling per size cost more than it won), run with
    onnxruntime's session interface so the engines need not know which
    runtime they got.

    streams=1: one request at a time using every core (the latency hint:
    a single picture is done soonest). streams=2: two requests at once, the
    cores split between them (the throughput hint), for a batch that keeps
    two images in flight: convolutions on one thread each waste less than
    one image on two threads, and one image's serial steps no longer leave
    a core idle (docs/benchmarks.md)."""

    def __init__(self, path: Path, threads: int | None = None, streams: int = 1) -> None:
        core = new_core()
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if streams > 1:
            config = {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": int(streams)}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        # From the path, so the kept compiled network is found by the file.
        self._compiled = core.compile_model(str(path), "CPU", config)
        self._inputs = [port.get_any_name() for port in self._compiled.inputs]
        self.streams = max(1, int(streams))
        # One request per stream; a call waits for a free one, so at most
        # `streams` images are in the network whatever the number of callers.
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(self.streams):
            self._requests.put(self._compiled.create_infer_request())

    def run(self, _output_names: Any, feeds: dict[str, Any]) -> list[Any]:
        request = self._requests.get()
        try:
            result = request.infer([feeds[name] for name in self._inputs])
            return [result[port].copy() for port in self._compiled.outputs]
        finally:
            self._requests.put(request)

    def get_inputs(self) -> list[SimpleNamespace]:
        """The inputs in the file's order, each with a `name`."""
        return [SimpleNamespace(name=name) for name in self._inputs]

    def get_providers(self) -> list[str]:
        return [PROVIDER]
