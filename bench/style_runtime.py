"""The style network's runtimes and the PNG writers, measured one by one on
the photos of bench/style_batch.py, before choosing what the batch uses.

    python bench/style_runtime.py                 # 10 photos, 3 paired rounds
    python bench/style_runtime.py --count 20 --rounds 5 --only png
    python bench/style_runtime.py --only placement   # the whole batch, in one process

For each onnxruntime setting (threads, graph optimisation level, CPU arena)
and, when the `openvino` package is installed, OpenVINO on the same ONNX file
(compiled once with dynamic shapes, or once per image size), prints wall and
CPU seconds (this process's, all its threads: the figure another engineer's
load disturbs least) per image, taken in rounds (each setting once per round,
the order rotating), and how far its pixels are from onnxruntime's default
in 0..255 levels. Then each PNG writer (Pillow at zlib levels 6, 3 and 1,
OpenCV at level 1, fpng when installed) on the styled results: CPU ms per
image, the folder's bytes against Pillow's level 3, and whether the file
decodes to the same pixels. `--only placement` runs the whole batch
(run_batch: decode, network, finishing, encode, write) per runtime, network
threads, images in the network at once, encoder threads and PNG writer.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from style_batch import photo  # noqa: E402  (the same photos as the batch bench)

from artstudio.style import onnx_runtime as rt  # noqa: E402
from artstudio.style import pixels as px  # noqa: E402

Runner = Callable[[np.ndarray, np.ndarray], np.ndarray]


def inputs(count: int) -> list[np.ndarray]:
    """NCHW float inputs, padded the way stylize_builtin pads them."""
    out = []
    for seed in range(count):
        rgb = px.rgb_float(np.asarray(photo(seed)))
        padded, _h, _w = px.reflect_pad(rgb, 4)
        out.append(np.ascontiguousarray(padded.transpose(2, 0, 1)[None]))
    return out


def ort_runner(threads: int | None, level: str, arena: bool) -> Runner:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.enable_mem_pattern = False
    opts.enable_cpu_mem_arena = arena
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    if threads:
        opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(rt.model_path(rt.MULTISTYLE)), opts,
                                providers=["CPUExecutionProvider"])
    return lambda x, w: sess.run(None, {"image": x, "style_weights": w})[0]


def openvino_runner(per_shape: bool, threads: int | None) -> Runner:
    import openvino as ov

    core = ov.Core()
    config = {"PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    path = str(rt.model_path(rt.MULTISTYLE))
    if not per_shape:
        compiled = core.compile_model(core.read_model(path), "CPU", config)
        return lambda x, w: compiled([x, w])[0]

    def run(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        # A folder of distinct sizes compiles for every image: that cost is counted.
        model = core.read_model(path)
        model.reshape({"image": list(x.shape), "style_weights": [len(w)]})
        return core.compile_model(model, "CPU", config)([x, w])[0]

    return run


def levels(out: np.ndarray) -> np.ndarray:
    return px.to_uint8(out[0].transpose(1, 2, 0))


def runners() -> dict[str, Callable[[], Runner]]:
    found: dict[str, Callable[[], Runner]] = {
        "ort all, arena, threads=cores (its defaults)":
            lambda: ort_runner(None, "ORT_ENABLE_ALL", True),
        "ort all, arena, 1 thread": lambda: ort_runner(1, "ORT_ENABLE_ALL", True),
        "ort basic, arena": lambda: ort_runner(None, "ORT_ENABLE_BASIC", True),
        "ort extended, arena": lambda: ort_runner(None, "ORT_ENABLE_EXTENDED", True),
        "ort all, no arena": lambda: ort_runner(None, "ORT_ENABLE_ALL", False),
    }
    try:
        import openvino  # noqa: F401
    except ImportError:
        print("openvino is not installed: its rows are left out")
        return found
    found["openvino, style and norms compiled in (today)"] = lambda: openvino_streams_runner(1)
    found["openvino dynamic shapes"] = lambda: openvino_runner(False, None)
    found["openvino dynamic, 1 thread"] = lambda: openvino_runner(False, 1)
    found["openvino compiled per size"] = lambda: openvino_runner(True, None)
    return found


def bench_runtimes(xs: list[np.ndarray], rounds: int) -> list[np.ndarray]:
    weights = np.zeros(26, np.float32)
    weights[7] = 1.0
    built = {}
    for name, make in runners().items():
        start = time.perf_counter()
        built[name] = make()
        print(f"  built {name} in {time.perf_counter() - start:.2f} s")
    reference = [levels(built[next(iter(built))](x, weights)) for x in xs]  # also a warm-up
    for run in list(built.values())[1:]:
        run(xs[0], weights)
    wall: dict[str, list[float]] = {n: [] for n in built}
    cpu: dict[str, list[float]] = {n: [] for n in built}
    worst = dict.fromkeys(built, 0)
    names = list(built)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            w0, c0 = time.perf_counter(), time.process_time()
            for x, ref in zip(xs, reference, strict=True):
                out = levels(built[name](x, weights))
                if r == 0:
                    worst[name] = max(worst[name], int(np.abs(out.astype(np.int16) - ref).max()))
            wall[name].append((time.perf_counter() - w0) / len(xs))
            cpu[name].append((time.process_time() - c0) / len(xs))
    print_medians(f"style network, {len(xs)} photos, {rounds} rounds, median per image",
                  names, wall, cpu, 1000, "ms", {n: f"  max diff {worst[n]} levels" for n in names})
    return reference


def print_medians(title: str, names: list[str], wall: dict, cpu: dict, scale: float,
                  unit: str, extra: dict[str, str] | None = None) -> None:
    """Each runner's median wall and CPU time, and its speed-up over the first."""
    base_w, base_c = statistics.median(wall[names[0]]), statistics.median(cpu[names[0]])
    print(f"\n{title} (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for name in names:
        mw, mc = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"  {name:42s} wall {scale * mw:6.1f} {unit} ({base_w / mw:4.2f}x)  "
              f"CPU {scale * mc:6.1f} {unit} ({base_c / mc:4.2f}x)"
              + (extra or {}).get(name, ""))


def png_writers() -> dict[str, Callable[[np.ndarray], bytes]]:
    import cv2

    def pil(level: int) -> Callable[[np.ndarray], bytes]:
        def write(rgb: np.ndarray) -> bytes:
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, "PNG", compress_level=level)
            return buf.getvalue()
        return write

    def opencv(rgb: np.ndarray) -> bytes:
        _ok, data = cv2.imencode(".png", rgb[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
        return data.tobytes()

    found = {"Pillow level 6 (its default)": pil(6), "Pillow level 3 (ours today)": pil(3),
             "Pillow level 1": pil(1), "OpenCV level 1": opencv}
    try:
        import fpng
    except ImportError:
        print("fpng is not installed: its row is left out")
        return found
    found["fpng"] = lambda rgb: fpng.from_ndarray(rgb)
    return found


def bench_png(images: list[np.ndarray], rounds: int) -> None:
    writers = png_writers()
    names = list(writers)
    cpu: dict[str, list[float]] = {n: [] for n in names}
    size = dict.fromkeys(names, 0)
    same = dict.fromkeys(names, True)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            total = 0.0
            for rgb in images:
                c0 = time.process_time()
                data = writers[name](rgb)
                total += time.process_time() - c0
                if r == 0:
                    size[name] += len(data)
                    back = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
                    same[name] &= bool(np.array_equal(back, rgb))
            cpu[name].append(total / len(images))
    base = size[names[1]]
    print(f"\nPNG writers on {len(images)} styled photos, {rounds} rounds, median CPU per image:")
    for name in names:
        print(f"  {name:30s} {1000 * statistics.median(cpu[name]):6.0f} ms  "
              f"{size[name] / 1e6:6.1f} MB ({100 * (size[name] / base - 1):+5.1f} % vs level 3)"
              f"  {'same pixels' if same[name] else 'PIXELS DIFFER'}")


class _Session:
    """A runner dressed as an onnxruntime session, for the batch's own code."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def run(self, _names, feeds: dict) -> list[np.ndarray]:
        return [self._run(feeds["image"], feeds["style_weights"])]

    def get_providers(self) -> list[str]:
        return ["CPUExecutionProvider"]


def openvino_session(streams: int):
    """The batch's own OpenVINO session with `streams` requests (safe to call
    from that many threads at once): the style compiled in, the norms fused,
    8-bit pixels in and out where the batch asks for them."""
    from artstudio.style.openvino_runtime import OpenVinoSession

    return OpenVinoSession(rt.model_path(rt.MULTISTYLE), None, streams)


def openvino_streams_runner(streams: int) -> Runner:
    sess = openvino_session(streams)
    return lambda x, w: sess.run(None, {"image": x, "style_weights": w})[0]


def placements() -> dict[str, tuple[Callable[[], Any], int, object, int]]:
    """(runtime, encoder threads, PNG level, images in the network at once)
    of the whole batch."""
    ort = lambda threads: lambda: ort_runner(threads, "ORT_ENABLE_ALL", True)  # noqa: E731
    found = {
        "ort 2 threads, 2 encoders, level 3": (ort(None), 2, 3, 1),
        "ort 1 thread, 1 encoder, level 3": (ort(1), 1, 3, 1),
        "ort 2 threads, 2 encoders, fast": (ort(None), 2, "fast", 1),
        "ort 1 thread, 1 encoder, fast": (ort(1), 1, "fast", 1),
        "ort 1 thread x 2 calls, 2 encoders, fast": (ort(1), 2, "fast", 2),
    }
    try:
        import openvino  # noqa: F401
    except ImportError:
        return found
    found["openvino as the file, 2 threads, 2 encoders, fast"] = (
        lambda: openvino_runner(False, None), 2, "fast", 1)
    found["openvino as the file, 1 thread, 1 encoder, fast"] = (
        lambda: openvino_runner(False, 1), 1, "fast", 1)
    found["openvino compiled in, 8-bit, 2 threads, 2 encoders, fast (today)"] = (
        lambda: openvino_session(1), 2, "fast", 1)
    found["openvino compiled in, 8-bit, 2 streams, 2 encoders, fast"] = (
        lambda: openvino_session(2), 2, "fast", 2)
    return found


def bench_placement(count: int, rounds: int) -> None:
    """The whole batch (decode, network, finishing, encode, write) in this
    process through run_batch, per runtime, encoder threads and PNG writer."""
    import tempfile

    from artstudio.batch import BatchSettings, plan_batch, run_batch
    from artstudio.style.transfer import StyleOptions, style_processor

    options = StyleOptions.builtin(7)
    built = {}
    for name, (make, enc, level, calls) in placements().items():
        made = make()  # a runner, or a session of the batch's own kind
        built[name] = (made if hasattr(made, "run") else _Session(made), enc, level, calls)
    names = list(built)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="style-placement-") as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(count):
            photo(i).save(src / f"photo_{i:04d}.jpg", quality=90)
        real_session = rt.session
        try:
            for r in range(rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    sess, encoders, level, calls = built[name]
                    rt.session = lambda *_a, _s=sess, **_k: _s
                    process = style_processor(options)
                    process.calls_at_once = calls  # what the row measures, not this machine's
                    out = Path(tmp) / f"out-{r}-{names.index(name)}"
                    plan = plan_batch(src, out)
                    w0, c0 = time.perf_counter(), time.process_time()
                    report = run_batch(plan.items, process, BatchSettings(
                        png_level=level, encode_workers=encoders))
                    wall[name].append(time.perf_counter() - w0)
                    cpu[name].append(time.process_time() - c0)
                    assert report.exit_code == 0
        finally:
            rt.session = real_session
    print_medians(f"whole batch in one process, {count} photos, {rounds} rounds, median",
                  names, wall, cpu, 1, "s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["runtime", "png", "placement"])
    args = parser.parse_args()
    if args.only == "placement":
        bench_placement(args.count, args.rounds)
        return 0
    xs = inputs(args.count)
    print(f"{args.count} photos, {sum(x.shape[2] * x.shape[3] for x in xs) / 1e6:.1f} megapixels")
    if args.only == "png":
        weights = np.zeros(26, np.float32)
        weights[7] = 1.0
        run = ort_runner(None, "ORT_ENABLE_ALL", True)
        images = [levels(run(x, weights)) for x in xs]
    else:
        images = bench_runtimes(xs, args.rounds)
    if args.only != "runtime":
        bench_png(images, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
