"""Compact SRVGG upscalers (the built-in networks, Real-ESRGAN's realesr-*v3
and other "Compact" files) through OpenVINO on the CPU, with the `fast`
extra installed.

The network is a plain chain (3x3 convolutions with PReLU, a pixel shuffle,
the input added back at nearest-neighbour size), so it is rebuilt here from
the file's tensors as an OpenVINO graph: neither torch nor spandrel is
imported (about 4 s of every `artstudio upscale` start), and a forward pass
takes about half the CPU of torch's (docs/benchmarks.md). Other
architectures, pickled files and GPUs go through `spandrel_models`."""

from __future__ import annotations

import os
import queue
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from artstudio.engine import openvino_core
from artstudio.engine.devices import cpu_is_the_choice
from artstudio.engine.model_cache import shared_cache
from artstudio.engine.network_building import builds_networks
from artstudio.upscale.tiler import run_alpha_as_grey, tile_for_memory

if TYPE_CHECKING:
    from artstudio.engine.cancel import CancelToken
    from artstudio.upscale.upscaling import UpscaleOptions

_BODY = re.compile(r"body\.(\d+)\.(weight|bias)")


@dataclass(frozen=True)
class CompactLayout:
    """What a compact file's tensor names and shapes say: the layers of the
    body in order (convolutions have a bias, PReLUs only a weight)."""

    layers: tuple[int, ...]
    convolutions: int
    scale: int
    parameters: int


def compact_layout(header: dict[str, Any]) -> CompactLayout | None:
    """The layout of a safetensors header that holds exactly a compact SRVGG
    network with PReLU activations and 3 channels in and out, else None."""
    shapes: dict[int, dict[str, list[int]]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        match = _BODY.fullmatch(name)
        if match is None or entry.get("dtype") not in ("F32", "F16", "BF16"):
            return None
        shapes.setdefault(int(match[1]), {})[match[2]] = list(entry.get("shape", []))
    layers = tuple(sorted(shapes))
    if len(layers) < 3 or layers != tuple(range(len(layers))) or len(layers) % 2 == 0:
        return None
    channels = 3
    for index in layers:
        layer = shapes[index]
        if index % 2 == 0:  # a 3x3 convolution from `channels`
            weight, bias = layer.get("weight", []), layer.get("bias", [])
            if len(weight) != 4 or weight[1:] != [channels, 3, 3] or bias != weight[:1]:
                return None
            channels = weight[0]
        elif set(layer) != {"weight"} or layer["weight"] != [channels]:
            return None
    scale = round((channels / 3) ** 0.5)
    if scale < 2 or 3 * scale * scale != channels:
        return None  # scale 1 is a restoration network, refused as spandrel refuses it
    parameters = sum(int(np.prod(shape)) for layer in shapes.values()
                     for shape in layer.values())
    return CompactLayout(layers, (len(layers) + 1) // 2, scale, parameters)


def usable(path: Path, device: str, precision: str) -> CompactLayout | None:
    """The file's layout when this module can run it: OpenVINO installed,
    the CPU the device that would be chosen, a safetensors compact file."""
    if path.suffix.lower() not in (".safetensors", ".sft") or not path.is_file():
        return None
    if not cpu_is_the_choice(device, precision) or not openvino_core.available():
        return None
    from artstudio.model_files.safe_load import InvalidModelError, read_safetensors_header

    try:
        return compact_layout(read_safetensors_header(path))
    except (InvalidModelError, OSError):
        return None  # spandrel's loader gives the message


@dataclass
class OpenVinoCompact:
    """A compact network compiled by OpenVINO, as a `protocol.Upscaler`."""

    compiled: Any
    layout: CompactLayout
    path: Path
    device: str = "cpu"
    # Idle requests: each keeps its buffers between calls (a new one per call
    # would fault in fresh memory every tile); two threads get two requests.
    requests: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)

    def with_options(self, options: UpscaleOptions,
                     cancel: CancelToken | None) -> OpenVinoCompact:
        return self

    @property
    def scale(self) -> int:
        return self.layout.scale

    @property
    def multiple_of(self) -> int:
        return 1

    @property
    def minimum(self) -> int:
        return 1

    @property
    def preferred_tile(self) -> int:
        return tile_for_memory(self.layout.parameters, self.scale, 1, self.device)

    @property
    def receptive_radius(self) -> int:
        return self.layout.convolutions  # each 3x3 convolution sees one pixel further

    def run(self, rgb: np.ndarray) -> np.ndarray:
        """One forward pass: HxWx3 float32 0..1 in, (sH)x(sW)x3 out."""
        batch = np.ascontiguousarray(rgb, np.float32)[None]
        try:
            request = self.requests.get_nowait()
        except queue.Empty:
            request = self.compiled.create_infer_request()
        try:
            return request.infer([batch])[self.compiled.outputs[0]][0].copy()
        finally:
            self.requests.put(request)

    def run_alpha(self, alpha: np.ndarray) -> np.ndarray:
        return run_alpha_as_grey(self, alpha)


def load_openvino_compact(path: Path, layout: CompactLayout) -> OpenVinoCompact:
    """Compile (cached) the compact network in `path`."""
    key = ("upscaler-openvino", str(path.resolve()), os.path.getmtime(path))
    return shared_cache().get(key, lambda: compile_compact(path, layout),
                              size_of=lambda _up: layout.parameters * 4)


@builds_networks
def compile_compact(path: Path, layout: CompactLayout,
                    threads: int | None = None) -> OpenVinoCompact:
    """The network in `path` as an OpenVINO graph, compiled for the CPU
    (`threads`: OpenVINO's choice, every core, when None)."""
    import openvino as ov
    import openvino.opset13 as op
    from safetensors.numpy import load_file

    tensors = load_file(str(path))  # plain tensors only: nothing in the file runs

    def const(name: str, shape: tuple[int, ...] | None = None) -> Any:
        value = tensors[name].astype(np.float32)
        return op.constant(value if shape is None else value.reshape(shape))

    def axes(*order: int) -> Any:
        return op.constant(np.array(order, np.int64))

    rgb = op.parameter([1, -1, -1, 3], np.float32, name="rgb")  # NHWC, as numpy holds it
    x = op.transpose(rgb, axes(0, 3, 1, 2))
    out = x
    for index in layout.layers:
        if index % 2 == 0:
            out = op.convolution(out, const(f"body.{index}.weight"),
                                 [1, 1], [1, 1], [1, 1], [1, 1])
            out = op.add(out, const(f"body.{index}.bias", (1, -1, 1, 1)))
        else:
            out = op.prelu(out, const(f"body.{index}.weight"))
    s = layout.scale
    out = op.depth_to_space(out, "depth_first", s)  # = torch's PixelShuffle
    x = op.interpolate(x, op.constant(np.array([s, s], np.float32)), "nearest", "scales",
                       axes=axes(2, 3), nearest_mode="floor",
                       coordinate_transformation_mode="asymmetric")
    out = op.clamp(op.add(out, x), 0.0, 1.0)
    model = ov.Model([op.transpose(out, axes(0, 2, 3, 1))], [rgb], path.stem)
    # float32 as torch runs it on the CPU: OpenVINO would pick bfloat16 on
    # CPUs that have it, which moves results by levels.
    config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    compiled = openvino_core.new_core().compile_model(model, "CPU", config)
    return OpenVinoCompact(compiled, layout, path)
