"""Rewrites of a style network's OpenVINO graph that give the same pixels
for less CPU (docs/benchmarks.md).

The multistyle network's instance norms are exported as ten separate steps
(mean, subtract, square, mean, add, root, divide, multiply, then the style's
scale and shift computed from the style weights). OpenVINO runs each as its
own pass over the feature map, and a scale that depends on an input keeps
the map in a slower layout. With the style weights as constants and each
norm's variance, scale, shift and ReLU in one MVN operation, the network
takes less CPU per image (docs/benchmarks.md), within a level of
onnxruntime's pixels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def _constant(output: Any) -> np.ndarray | None:
    node = output.get_node()
    return node.get_data() if node.get_type_name() == "Constant" else None


def _source(node: Any, index: int) -> Any:
    return node.input(index).get_source_output()


def _is(output: Any, kind: str) -> bool:
    return output.get_node().get_type_name() == kind


def _scalar(output: Any, value: float | None = None) -> float | None:
    data = _constant(output)
    if data is None or data.size != 1:
        return None
    found = float(data.ravel()[0])
    return found if value is None or found == value else None


def _spatial(output: Any) -> bool:
    axes = _constant(output)
    return axes is not None and sorted(axes.ravel().tolist()) == [2, 3]


def _axes(*axes: int) -> Any:
    import openvino.opset13 as op

    return op.constant(np.array(axes, np.int64))


def _centre_convolution_input(x: Any) -> bool:
    """Where `x` is a convolution with fewer channels in than out (the
    first layer: 3 in, 32 out), centre its input instead of its output: the
    convolution is linear and its reflection padding keeps a constant
    constant, so the output comes out nearly centred (enough for MVN's sum)
    from a subtraction over 3 channels instead of 32. True if done."""
    import openvino.opset13 as op

    conv = x.get_node()
    if conv.get_type_name() != "Convolution":
        return False
    weights = _constant(_source(conv, 1))
    attributes = conv.get_attributes()
    if weights is None or weights.ndim != 4 or weights.shape[1] >= weights.shape[0] \
            or any(attributes.get("pads_begin", [])) or any(attributes.get("pads_end", [])):
        return False  # zero padding of a centred input is not the centred output
    entry = conv
    if _is(_source(conv, 0), "Pad"):
        entry = _source(conv, 0).get_node()
        if entry.get_attributes().get("pad_mode") not in ("reflect", "symmetric", "edge"):
            return False
    source = _source(entry, 0)
    centred = op.subtract(source, op.reduce_mean(source, _axes(2, 3), True))
    entry.input(0).replace_source_output(centred.output(0))
    return True


def fix_inputs(model: Any, values: Mapping[str, np.ndarray]) -> None:
    """Replace the named inputs of `model` by constants of these values."""
    import openvino.opset13 as op

    for parameter in list(model.get_parameters()):
        name = parameter.get_output_tensor(0).get_any_name()
        if name not in values:
            continue
        value = np.asarray(values[name], parameter.get_element_type().to_dtype())
        constant = op.constant(value)
        for target in list(parameter.output(0).get_target_inputs()):
            target.replace_source_output(constant.output(0))
        model.remove_parameter(parameter)
    model.validate_nodes_and_infer_types()


def fuse_instance_norms(model: Any) -> int:
    """Every `c * (1 / sqrt(mean(c^2) + eps))` with `c = x - mean(x)` over
    height and width becomes MVN(c) (eps inside the root, as here), into
    which the style's scale and shift then fold; returns how many."""
    import openvino.opset13 as op

    fused = 0
    for node in model.get_ordered_ops():
        if node.get_type_name() != "Multiply":
            continue
        centred, scale = _source(node, 0), _source(node, 1)
        if not (_is(centred, "Subtract") and _is(scale, "Divide")):
            continue
        sub, div = centred.get_node(), scale.get_node()
        x, mean = _source(sub, 0), _source(sub, 1)
        if not (_is(mean, "ReduceMean") and _source(mean.get_node(), 0) == x
                and _spatial(_source(mean.get_node(), 1))):
            continue
        root = _source(div, 1)
        if _scalar(_source(div, 0), 1.0) is None or not _is(root, "Sqrt"):
            continue
        add = _source(root.get_node(), 0)
        if not _is(add, "Add"):
            continue
        variance, eps = _source(add.get_node(), 0), _scalar(_source(add.get_node(), 1))
        if eps is None or not _is(variance, "ReduceMean") \
                or not _spatial(_source(variance.get_node(), 1)):
            continue
        square = _source(variance.get_node(), 0)
        if not (_is(square, "Power") and _source(square.get_node(), 0) == centred
                and _scalar(_source(square.get_node(), 1), 2.0) is not None):
            continue
        # MVN of the centred map, not of x: MVN sums a whole channel in one
        # float32 running total, whose error on an uncentred megapixel map
        # reached 3-11 levels; centred, the values it sums are small.
        normalised = x if _centre_convolution_input(x) else centred
        mvn = op.mvn(normalised, _axes(2, 3), True, eps, "inside_sqrt")
        node.output(0).replace(mvn.output(0))
        fused += 1
    if fused:
        model.validate_nodes_and_infer_types()
    return fused


def with_pixel_io(model: Any, image: str) -> Any:
    """`model` taking and giving 8-bit HxWx3 pixels: its NCHW float 0..1
    input `image` and its one NCHW output, with the conversions (to float,
    /255, the layout; clamp, x255, +0.5, truncate to 8 bits) done inside
    the compiled network, on its threads, instead of as numpy passes over
    float copies of the picture. The same values as `pixels.to_uint8`."""
    import openvino as ov
    import openvino.opset13 as op
    from openvino.preprocess import PrePostProcessor

    ppp = PrePostProcessor(model)
    source = ppp.input(image)
    source.tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    source.model().set_layout(ov.Layout("NCHW"))
    source.preprocess().convert_element_type(ov.Type.f32).custom(
        lambda node: op.multiply(node, op.constant(np.float32(1 / 255))).output(0))
    result = ppp.output()
    result.model().set_layout(ov.Layout("NCHW"))
    result.tensor().set_layout(ov.Layout("NHWC"))
    result.postprocess().custom(lambda node: op.add(
        op.multiply(op.clamp(node, 0.0, 1.0), op.constant(np.float32(255))),
        op.constant(np.float32(0.5))).output(0)).convert_element_type(ov.Type.u8)
    return ppp.build()
