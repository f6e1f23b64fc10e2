"""`image.resize2d` and the ONNX Resize / Upsample converters, against onnxruntime."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper

from edgecc.errors import TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx import from_onnx
from edgecc.interpreter import run
from edgecc.ir.types import TensorType
from edgecc.ops.registry import infer_type, normalize_attrs
from edgecc.testing.single_op import RandomArrays, check_against_ort, model_from_node

RNG = np.random.default_rng(1)
COORD = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
         "tf_half_pixel_for_nn"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
SIZES = [(8, 12), (3, 5), (2, 1), (1, 7), (4, 6), (9, 4)]  # input is 4 x 6


def _model(inputs: list[str], consts: dict[str, np.ndarray], x: np.ndarray, opset: int,
           op: str = "Resize", **attrs: Any) -> onnx.ModelProto:
    node = helper.make_node(op, inputs, ["y"], **attrs)
    return model_from_node(node, {"x": x}, consts, opset=opset, ir_version=10)


def compare(model: onnx.ModelProto, x: np.ndarray, *, atol: float = 1e-5) -> np.ndarray:
    (got,) = check_against_ort(model, {"x": x}, atol=atol)
    return got


def by_sizes(x: np.ndarray, size: tuple[int, int], opset: int = 13, **attrs: Any
             ) -> onnx.ModelProto:
    sizes = np.array([*x.shape[:2], *size], np.int64)
    return _model(["x", "", "", "sizes"], {"sizes": sizes}, x, opset, **attrs)


def by_scales(x: np.ndarray, scales: list[float], opset: int = 13, **attrs: Any
              ) -> onnx.ModelProto:
    s = np.array(scales, np.float32)
    return _model(["x", "", "scales"], {"scales": s}, x, opset, **attrs)


image = RandomArrays(RNG, ints=(0, 99))


# ---------------------------------------------------------------------- modes vs onnxruntime
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("coord", COORD)
@pytest.mark.parametrize("nearest", NEAREST)
def test_nearest(size: tuple, coord: str, nearest: str) -> None:
    x = image(2, 3, 4, 6)
    compare(by_sizes(x, size, mode="nearest", coordinate_transformation_mode=coord,
                     nearest_mode=nearest), x)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("coord", COORD[:4])
def test_linear(size: tuple, coord: str) -> None:
    x = image(1, 2, 4, 6)
    compare(by_sizes(x, size, mode="linear", coordinate_transformation_mode=coord), x)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("coord", COORD[:4])
@pytest.mark.parametrize(("a", "exclude"), [(-0.75, 0), (-0.5, 1), (-0.5, 0)])
def test_cubic(size: tuple, coord: str, a: float, exclude: int) -> None:
    x = image(1, 2, 4, 6)
    compare(by_sizes(x, size, mode="cubic", coordinate_transformation_mode=coord,
                     cubic_coeff_a=a, exclude_outside=exclude), x, atol=1e-4)


@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 0.5, 0.5], [1, 1, 3, 1.5],
                                    [1, 1, 0.25, 2]])
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_integral_scales(scales: list, mode: str) -> None:
    x = image(1, 3, 8, 4)
    compare(by_scales(x, scales, mode=mode), x, atol=1e-4)


@pytest.mark.parametrize("scales", [[1, 1, 0.6, 0.6], [1, 1, 2.3, 1.7], [1, 1, 0.8, 1.4]])
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("coord", ["half_pixel", "align_corners", "asymmetric"])
def test_scales_that_are_not_the_size_ratio(scales: list, mode: str, coord: str) -> None:
    # 0.6 on 4 rows gives 2 rows, but the coordinates map with 0.6, not 2/4
    x = image(1, 2, 4, 6)
    model = by_scales(x, scales, mode=mode, coordinate_transformation_mode=coord)
    compare(model, x, atol=1e-4)
    (node,) = from_onnx(model).ops()
    assert node.attrs["scales"] == tuple(float(np.float32(s)) for s in scales[2:])


def test_integer_images() -> None:
    x = image(1, 2, 5, 5, dtype=np.uint8)
    compare(by_sizes(x, (10, 10), mode="nearest"), x)
    compare(by_sizes(x, (3, 8), mode="nearest", nearest_mode="ceil"), x)
    # Linear results truncate as in onnxruntime; a value that lands on a whole number can fall
    # either side of it in float32 versus float64 arithmetic, hence one step of tolerance.
    compare(by_sizes(x, (10, 7), mode="linear"), x, atol=1)
    x = RNG.integers(-100, 100, size=(1, 2, 5, 5)).astype(np.int8)
    got = compare(by_sizes(x, (3, 8), mode="linear"), x, atol=1)
    assert got.dtype == np.int8


def test_scale_one_is_identity() -> None:
    x = image(1, 1, 3, 4)
    for mode in ("nearest", "linear", "cubic"):
        np.testing.assert_array_equal(compare(by_sizes(x, (3, 4), mode=mode), x), x)


# ---------------------------------------------------------------------- opset variants
@pytest.mark.parametrize("opset", [11, 13, 18, 19])
def test_opsets(opset: int) -> None:
    x = image(1, 2, 3, 5)
    roi = np.array([], np.float32)
    sizes = np.array([1, 2, 6, 4], np.int64)
    model = _model(["x", "roi", "roi", "sizes"], {"roi": roi, "sizes": sizes}, x, opset,
                   mode="linear")
    compare(model, x)
    scales = np.array([1, 1, 2, 2], np.float32)
    model = _model(["x", "roi", "scales"], {"roi": roi, "scales": scales}, x, opset,
                   mode="nearest")
    compare(model, x)


def test_half_pixel_symmetric_opset19() -> None:
    x = image(1, 2, 4, 6)
    compare(by_sizes(x, (8, 3), 19, mode="linear",
                     coordinate_transformation_mode="half_pixel_symmetric"), x)


@pytest.mark.parametrize("axes", [[2, 3], [3, 2], [-1, -2]])
def test_axes_opset18(axes: list) -> None:
    x = image(1, 2, 4, 6)
    sizes = np.array([7, 5], np.int64)
    model = _model(["x", "", "", "sizes"], {"sizes": sizes}, x, 18, mode="linear", axes=axes)
    compare(model, x)
    scales = np.array([2, 0.5], np.float32)
    model = _model(["x", "", "scales"], {"scales": scales}, x, 18, mode="nearest", axes=axes)
    compare(model, x)


@pytest.mark.parametrize(("policy", "size"), [("not_larger", (8, 20)),
                                              ("not_smaller", (2, 12))])
def test_keep_aspect_ratio_policy(policy: str, size: tuple) -> None:
    x = image(1, 1, 4, 6)
    sizes = np.array(size, np.int64)
    model = _model(["x", "", "", "s"], {"s": sizes}, x, 18, mode="linear", axes=[2, 3],
                   keep_aspect_ratio_policy=policy)
    assert from_onnx(model).outputs[0].shape == (1, 1, 8, 12)
    compare(model, x)


def test_antialias_on_upsampling_is_a_no_op() -> None:
    x = image(1, 1, 3, 3)
    compare(by_sizes(x, (6, 9), 18, mode="linear", antialias=1), x)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [[1, 1, 2, 3], [1, 1, 0.5, 0.5], [1, 1, 1, 2]])
def test_resize10(mode: str, scales: list) -> None:
    x = image(1, 2, 4, 6)
    model = _model(["x", "scales"], {"scales": np.array(scales, np.float32)}, x, 10, mode=mode)
    compare(model, x)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_upsample(mode: str) -> None:
    x = image(1, 2, 3, 4)
    scales = [1.0, 1.0, 2.0, 3.0]
    compare(_model(["x"], {}, x, 7, op="Upsample", mode=mode, scales=scales), x)
    s = np.array(scales, np.float32)
    compare(_model(["x", "s"], {"s": s}, x, 9, op="Upsample", mode=mode), x)


def test_upsample_v1_attributes() -> None:
    x = image(1, 1, 2, 3)
    model = _model(["x"], {}, x, 1, op="Upsample", height_scale=2.0, width_scale=2.0)
    got = run(from_onnx(model), {"x": x})["y"]
    np.testing.assert_array_equal(got, x.repeat(2, axis=2).repeat(2, axis=3))


# ---------------------------------------------------------------------- unsupported cases
@pytest.mark.parametrize(("model_fn", "match"), [
    (lambda x: by_scales(x, [1, 2, 2, 2]), "spatial dims"),
    (lambda x: by_sizes(x, (2, 3), 18, mode="linear", antialias=1), "antialias"),
    (lambda x: by_sizes(x, (8, 8), 18, mode="nearest", antialias=1), "antialias"),
    (lambda x: by_sizes(x, (8, 8), coordinate_transformation_mode="tf_crop_and_resize"),
     "tf_crop_and_resize"),
])
def test_unsupported(model_fn: Any, match: str) -> None:
    x = image(1, 2, 4, 6)
    with pytest.raises(UnsupportedError, match=match):
        from_onnx(model_fn(x))


def test_non_4d_input_is_unsupported() -> None:
    x = image(2, 4, 6)
    model = _model(["x", "", "", "s"], {"s": np.array([2, 8, 12], np.int64)}, x, 13)
    with pytest.raises(UnsupportedError, match="4-D NCHW"):
        from_onnx(model)


def test_dynamic_sizes_are_unsupported() -> None:
    x = image(1, 1, 2, 2)
    node = helper.make_node("Resize", ["x", "", "", "s"], ["y"])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", 1, x.shape),
                      helper.make_tensor_value_info("s", 7, [4])],
        [helper.make_empty_tensor_value_info("y")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(UnsupportedError, match="'sizes' must be a compile-time constant"):
        from_onnx(model)


# ---------------------------------------------------------------------- the type rule
def test_type_rule() -> None:
    attrs = normalize_attrs("image.resize2d", {"sizes": (5, 7), "mode": "cubic"})
    t = infer_type("image.resize2d", [TensorType((1, 3, 2, 2), layout="NCHW")], attrs)
    assert t == TensorType((1, 3, 5, 7))
    for bad in ({"sizes": (5,)}, {"sizes": (0, 3)}, {"sizes": (2, 2), "mode": "area"},
                {"sizes": (2, 2), "coordinate_transformation_mode": "tf_crop_and_resize"}):
        with pytest.raises(TypeInferenceError):
            infer_type("image.resize2d", [TensorType((1, 3, 2, 2))],
                       normalize_attrs("image.resize2d", bad))
    with pytest.raises((UnsupportedError, TypeInferenceError), match="layout NCHW only"):
        infer_type("image.resize2d", [TensorType((1, 2, 2, 3), layout="NHWC")],
                   normalize_attrs("image.resize2d", {"sizes": (4, 4)}))
