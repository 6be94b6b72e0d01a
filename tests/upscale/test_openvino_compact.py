"""Compact SRVGG files through OpenVINO on the CPU: recognised from their
tensor names and shapes alone, the same pixels as spandrel's forward pass,
chosen only where torch would run on the CPU, and `artstudio upscale` with
the built-in networks never imports torch or spandrel."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from artstudio.engine import devices, openvino_core
from artstudio.model_files.safe_load import read_safetensors_header
from artstudio.upscale import builtin, tiler
from artstudio.upscale import upscaling as up
from artstudio.upscale.openvino_compact import OpenVinoCompact, compact_layout
from artstudio.upscale.spandrel_models import SpandrelUpscaler, load_spandrel

needs_openvino = pytest.mark.skipif(not openvino_core.available(),
                                    reason="openvino is not installed (the fast extra)")


def save_compact(path, scale: int, seed: int = 0, feat: int = 8, convs: int = 2):
    from safetensors.torch import save_file
    from spandrel.architectures.Compact import Compact

    torch.manual_seed(seed)
    net = Compact(num_feat=feat, num_conv=convs, upscale=scale)
    for prelu in (m for m in net.modules() if isinstance(m, torch.nn.PReLU)):
        torch.nn.init.uniform_(prelu.weight, -0.5, 0.5)  # negative slopes that matter
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path


def layout_of(tensors: dict[str, np.ndarray], tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "probe.safetensors"
    save_file(tensors, str(path))
    return compact_layout(read_safetensors_header(path))


def picture(h: int = 45, w: int = 61) -> np.ndarray:
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // w, yy * 255 // h, (xx * yy) % 255], -1).astype(np.float64)
    return np.clip(rgb + rng.normal(0, 12, rgb.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("scale", [2, 4])
def test_the_built_in_files_are_read_as_compact_networks(scale):
    layout = compact_layout(read_safetensors_header(builtin.builtin_model_path(scale)))
    assert layout is not None and layout.scale == scale
    assert layout.convolutions == 12 and len(layout.layers) == 23
    assert layout.parameters == sum(
        p.numel() for p in load_spandrel(builtin.builtin_model_path(scale), "cpu")
        .descriptor.model.parameters())


def test_other_layouts_are_left_to_spandrel(tmp_path):
    f = np.float32
    conv = lambda o, i: {"weight": np.zeros((o, i, 3, 3), f), "bias": np.zeros(o, f)}  # noqa: E731

    def body(*layers):
        return {f"body.{n}.{k}": v for n, layer in enumerate(layers) for k, v in layer.items()}

    prelu = {"weight": np.zeros(8, f)}
    assert layout_of(body(conv(8, 3), prelu, conv(12, 8)), tmp_path).scale == 2
    assert layout_of(body(conv(8, 3), prelu, conv(3, 8)), tmp_path) is None  # 1x: restoration
    assert layout_of(body(conv(8, 4), prelu, conv(12, 8)), tmp_path) is None  # RGBA in
    assert layout_of(body(conv(8, 3), conv(8, 8), conv(12, 8)), tmp_path) is None  # no PReLU
    assert layout_of(body(conv(8, 3), {"weight": np.zeros(1, f)}, conv(12, 8)),
                     tmp_path) is None  # one shared slope: not what spandrel builds
    extra = {**body(conv(8, 3), prelu, conv(12, 8)), "conv_first.weight": np.zeros(3, f)}
    assert layout_of(extra, tmp_path) is None  # another architecture's names


@needs_openvino
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_the_same_pixels_as_spandrels_forward_pass(tmp_path, scale):
    path = save_compact(tmp_path / f"compact-x{scale}.safetensors", scale, seed=scale)
    model = up.load_upscaler(path, "cpu")
    assert isinstance(model, OpenVinoCompact) and model.scale == scale
    reference = load_spandrel(path, "cpu")
    rgb = picture().astype(np.float32) / 255
    got, expected = model.run(rgb), reference.run(rgb)
    assert got.shape == expected.shape == (45 * scale, 61 * scale, 3)
    assert np.abs(got - expected).max() < 1e-5
    rgba = np.dstack([picture(), np.linspace(0, 255, 61, dtype=np.uint8)[None].repeat(45, 0)])
    whole = tiler.upscale_array(model, rgba, tile=32, overlap=8).astype(int)
    assert np.abs(whole - tiler.upscale_array(reference, rgba, tile=32, overlap=8)).max() <= 1
    assert whole[..., 3].min() < 10 and whole[..., 3].max() > 245  # alpha kept, upscaled


@needs_openvino
def test_a_model_shared_by_two_threads_gives_each_its_own_result(tmp_path):
    model = up.load_upscaler(save_compact(tmp_path / "x2.safetensors", 2), "cpu")
    images = [np.random.default_rng(k).random((40 + 8 * k, 50, 3), np.float32)
              for k in range(4)]
    alone = [model.run(image) for image in images]
    together: dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        for _ in range(3):
            together[k] = model.run(images[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        np.testing.assert_array_equal(together[k], alone[k])


@needs_openvino
def test_spandrel_runs_it_where_openvino_should_not(tmp_path, monkeypatch):
    path = save_compact(tmp_path / "x2.safetensors", 2)
    assert isinstance(up.load_upscaler(path, "cpu", "bfloat16"), SpandrelUpscaler)
    assert isinstance(up.load_upscaler(path, "cuda"), SpandrelUpscaler)  # falls back on its own
    pickled = tmp_path / "x2.pth"
    torch.save(load_spandrel(path, "cpu").descriptor.model.state_dict(), pickled)
    assert isinstance(up.load_upscaler(pickled, "cpu"), SpandrelUpscaler)
    monkeypatch.setattr(openvino_core, "available", lambda: False)
    assert isinstance(up.load_upscaler(path, "cpu"), SpandrelUpscaler)


def test_the_cpu_is_known_without_torch_where_no_gpu_driver_is(monkeypatch):
    def no_torch(*_args):
        raise AssertionError("torch was asked")

    monkeypatch.setattr(devices, "torch_imported", lambda: False)
    monkeypatch.setattr(devices, "_gpu_driver_present", lambda: False)
    monkeypatch.setattr(devices, "choose_device", no_torch)
    assert devices.cpu_is_the_choice("auto", "auto") and devices.cpu_is_the_choice("cpu")
    assert not devices.cpu_is_the_choice("cuda") and not devices.cpu_is_the_choice("mps")
    assert not devices.cpu_is_the_choice("auto", "float16")
    monkeypatch.setattr(devices, "_gpu_driver_present", lambda: True)
    gpu = devices.DeviceChoice("cuda", "float16", "an NVIDIA GPU was found")
    monkeypatch.setattr(devices, "choose_device", lambda *_a: gpu)
    assert not devices.cpu_is_the_choice("auto")


@needs_openvino
def test_upscaling_a_folder_with_the_built_in_network_loads_neither_torch_nor_spandrel(
        tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for k, size in enumerate([(61, 45), (40, 52)]):
        Image.fromarray(picture(size[1], size[0])).save(src / f"p{k}.png")
    code = ("import sys\n"
            "from artstudio.cli import main\n"
            "status = main(['upscale', sys.argv[1], sys.argv[2], '--device', 'cpu'])\n"
            "print(sorted(m for m in ('torch', 'spandrel') if m in sys.modules))\n"
            "sys.exit(status)\n")
    run = subprocess.run([sys.executable, "-c", code, str(src), str(dst)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
    with Image.open(dst / "p0.png") as a, Image.open(dst / "p1.png") as b:
        assert a.size == (122, 90) and b.size == (80, 104)
        ours = np.asarray(a.convert("RGB")).astype(int)
    expected = up.upscale(np.dstack([picture(45, 61), np.full((45, 61), 255, np.uint8)]),
                          up.UpscaleOptions(model="builtin", device="cpu"))
    assert np.abs(ours - expected[..., :3]).max() <= 1
