"""The multistyle network as OpenVINO compiles it on a CPU: the style
weights as constants and each instance norm as one MVN, then 8-bit pixels in
and out. The same pixels as onnxruntime's within a level, on a megapixel
photo-like picture too (a float32 running total over a whole channel was
3-11 levels off there), and the 8-bit form exactly the float form's."""

from __future__ import annotations

import numpy as np
import pytest

from artstudio.engine.model_cache import shared_cache
from artstudio.style import onnx_runtime as rt
from artstudio.style import openvino_runtime
from artstudio.style.builtin_styles import style_weights
from artstudio.style.transfer import StyleOptions, stylize

pytestmark = pytest.mark.skipif(not openvino_runtime.available(),
                                reason="openvino is not installed (the fast extra)")


@pytest.fixture(autouse=True)
def fresh_sessions():
    shared_cache().unload_all()
    yield
    shared_cache().unload_all()


def photo_like(h: int, w: int) -> np.ndarray:
    """Smooth light areas (large channel means, small spread: where a
    running total loses digits) with a little texture, and an alpha ramp."""
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([200 + 40 * np.sin(xx / 97), 180 + 50 * (yy / h), 150 + 30 * np.cos(
        (xx + yy) / 61)], -1) + rng.normal(0, 4, (h, w, 3))
    alpha = np.broadcast_to(np.linspace(0, 255, w, dtype=np.float32), (h, w))[..., None]
    return np.clip(np.concatenate([rgb, alpha], -1), 0, 255).astype(np.uint8)


def onnxruntime_pixels(rgba: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(rt.model_path(rt.MULTISTYLE)),
                                providers=["CPUExecutionProvider"])
    x = np.ascontiguousarray(rgba[..., :3].transpose(2, 0, 1)[None], np.float32) / 255
    out = sess.run(None, {"image": x, "style_weights": np.asarray(weights, np.float32)})[0]
    return (np.clip(out[0].transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8)


def test_the_norms_are_fused_and_a_megapixel_stays_within_a_level_of_onnxruntime():
    import openvino as ov

    from artstudio.style.openvino_graph import fix_inputs, fuse_instance_norms

    weights = style_weights("3:0.7,lilac:0.3")
    model = ov.Core().read_model(str(rt.model_path(rt.MULTISTYLE)))
    fix_inputs(model, {"style_weights": np.asarray(weights, np.float32)})
    assert [p.get_output_tensor(0).get_any_name() for p in model.get_parameters()] == ["image"]
    assert fuse_instance_norms(model) == 18
    kinds = [op.get_type_name() for op in model.get_ordered_ops()]
    assert kinds.count("MVN") == 18 and "Sqrt" not in kinds and "Power" not in kinds

    rgba = photo_like(1024, 1180)  # sides already a multiple of 4: no padding to compare
    ours = stylize(rgba, StyleOptions.builtin("3:0.7,lilac:0.3", device="cpu"))
    assert rt.session_device(rt.session(rt.MULTISTYLE, "cpu")) == "cpu (openvino)"
    diff = np.abs(ours[..., :3].astype(int) - onnxruntime_pixels(rgba, weights))
    assert diff.max() <= 1 and diff.mean() < 0.05
    np.testing.assert_array_equal(ours[..., 3], rgba[..., 3])  # alpha kept


def test_eight_bit_pixels_give_exactly_the_float_forms_pixels():
    rgba = photo_like(203, 317)  # padded to 204x320 and cropped back
    sess = rt.session(rt.MULTISTYLE, "cpu")
    weights = {"style_weights": np.asarray(style_weights("frost"), np.float32)}
    x = np.ascontiguousarray(rgba[..., :3].transpose(2, 0, 1)[None], np.float32)
    x = np.pad(x * np.float32(1 / 255), ((0, 0), (0, 0), (0, 1), (0, 3)), mode="reflect")
    floats = sess.run(None, {"image": x, **weights})[0][0, :, :203, :317]
    expected = (np.clip(floats.transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8)
    padded = np.pad(rgba[..., :3], ((0, 1), (0, 3), (0, 0)), mode="reflect")
    got = sess.run_pixels("image", padded, weights)
    assert got.dtype == np.uint8 and got.shape == (204, 320, 3)
    np.testing.assert_array_equal(got[:203, :317], expected)
    # stylize takes the 8-bit form only where finishing is just the conversion:
    plain = stylize(rgba, StyleOptions.builtin("frost", device="cpu"))
    np.testing.assert_array_equal(plain[..., :3], expected)
    faded = stylize(rgba, StyleOptions.builtin("frost", device="cpu", strength=0.5))
    assert np.abs(faded[..., :3].astype(int) - expected).mean() > 1  # the float path ran


def test_each_style_is_compiled_once_and_the_last_few_are_kept(monkeypatch):
    compiled = []
    real = openvino_runtime.core_compile

    def counting(core, model, config):
        compiled.append(model)
        return real(core, model, config)

    monkeypatch.setattr(openvino_runtime, "core_compile", counting)
    rgba = photo_like(40, 48)
    first = {s: stylize(rgba, StyleOptions.builtin(s, device="cpu")) for s in (1, 2)}
    assert len(compiled) == 2
    again = stylize(rgba, StyleOptions.builtin(1, device="cpu"))
    assert len(compiled) == 2  # kept
    np.testing.assert_array_equal(again, first[1])
    stylize(rgba, StyleOptions.builtin(3, device="cpu"))  # a third: 2, the least recent, goes
    stylize(rgba, StyleOptions.builtin(1, device="cpu"))
    assert len(compiled) == 3
    stylize(rgba, StyleOptions.builtin(2, device="cpu"))
    assert len(compiled) == 4 and openvino_runtime.VARIANTS_KEPT == 2
    assert not np.array_equal(first[1], first[2])
