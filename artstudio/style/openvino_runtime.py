"""The style networks through OpenVINO (`pip install 'artstudio[fast]'`)
on the CPU, where it runs the shipped ONNX files with less CPU than
onnxruntime's CPU provider (docs/benchmarks.md). Used only when onnxruntime
has no accelerated provider here: CUDA, DirectML and CoreML still win."""

from __future__ import annotations

import os
import queue
from pathlib import Path
from types import SimpleNamespace
from typing import Any

PROVIDER = "OpenVINO"  # what `get_providers` names, like onnxruntime's names


def compiled_cache() -> Path | None:
    """Where OpenVINO keeps the networks it compiled (compiling is a third
    of a second of CPU at every start; loading the kept one, a tenth), or
    None when the data folder cannot be written."""
    from artstudio.paths import data_dir

    folder = data_dir() / "cache" / "openvino"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


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
        import openvino as ov

        core = ov.Core()
        cache = compiled_cache()
        if cache is not None:
            core.set_property({"CACHE_DIR": str(cache)})
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
