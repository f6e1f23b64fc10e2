"""nn pooling ops: ONNX MaxPool/AveragePool/Global*Pool against onnxruntime and ONNX's cases."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.errors import EdgeccError, TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx.importer import from_onnx
from edgecc.ir.types import TensorType
from edgecc.ops import get_op, infer_type, normalize_attrs
from edgecc.testing.single_op import (
    InterpreterBackend,
    RandomArrays,
    check_against_ort,
    check_node_case,
    make_model,
    node_cases,
)

RNG = np.random.default_rng(1)
rand = RandomArrays(RNG)


# ---------------------------------------------------------------------- MaxPool / AveragePool
POOL_CASES = [
    # (x shape, attrs)
    ((1, 2, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ((2, 3, 9, 7), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 2, 10, 9), {"kernel_shape": [3, 2], "strides": [2, 3], "pads": [1, 0, 2, 1]}),
    ((1, 2, 7, 7), {"kernel_shape": [3, 3]}),
    ((1, 2, 6, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                    "ceil_mode": 1}),
    ((1, 1, 5, 5), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    # The last ceil-mode window would start in the trailing pad: it is dropped.
    ((1, 1, 6, 6), {"kernel_shape": [3, 3], "strides": [4, 4], "pads": [2, 2, 2, 2],
                    "ceil_mode": 1}),
    ((1, 1, 8, 8), {"kernel_shape": [2, 2], "strides": [3, 3], "ceil_mode": 1}),
    ((1, 2, 9, 10), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 2, 9, 10), {"kernel_shape": [4, 4], "strides": [2, 3], "auto_pad": "SAME_LOWER"}),
    ((1, 2, 9, 10), {"kernel_shape": [2, 3], "strides": [2, 2], "auto_pad": "VALID"}),
]


@pytest.mark.parametrize("xs, attrs", POOL_CASES)
def test_max_pool(xs: tuple, attrs: dict) -> None:
    x = rand(*xs)
    check_against_ort(make_model("MaxPool", {"x": x}, attrs), {"x": x})


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("xs, attrs", POOL_CASES)
def test_avg_pool(xs: tuple, attrs: dict, count_include_pad: int) -> None:
    x = rand(*xs)
    model = make_model("AveragePool", {"x": x}, {**attrs, "count_include_pad": count_include_pad})
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [3, 3], "dilations": [2, 2]},
    {"kernel_shape": [2, 3], "dilations": [2, 1], "strides": [2, 2], "pads": [1, 1, 1, 0]},
    {"kernel_shape": [3, 3], "dilations": [2, 2], "strides": [2, 2], "ceil_mode": 1},
    {"kernel_shape": [2, 2], "dilations": [3, 2], "auto_pad": "SAME_UPPER", "strides": [2, 2]},
    {"kernel_shape": [3, 2], "dilations": [2, 3], "auto_pad": "SAME_LOWER"},
])
def test_max_pool_dilations(attrs: dict) -> None:
    x = rand(1, 2, 11, 10)
    check_against_ort(make_model("MaxPool", {"x": x}, attrs), {"x": x})


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [3]},
    {"kernel_shape": [3], "strides": [2], "pads": [1, 2]},
    {"kernel_shape": [2], "strides": [2], "ceil_mode": 1},
    {"kernel_shape": [4], "strides": [3], "auto_pad": "SAME_UPPER"},
])
def test_pool_1d(op: str, attrs: dict) -> None:
    x = rand(2, 3, 13)
    check_against_ort(make_model(op, {"x": x}, attrs), {"x": x})


@pytest.mark.parametrize("dtype", ["uint8", "int8", "float16", "float64"])
def test_max_pool_dtypes(dtype: str) -> None:
    if dtype.startswith("float"):
        x = rand(1, 2, 7, 7, dtype=dtype)
    else:
        info = np.iinfo(dtype)
        x = RNG.integers(info.min, info.max, size=(1, 2, 7, 7), endpoint=True).astype(dtype)
    model = make_model("MaxPool", {"x": x}, {"kernel_shape": [3, 3], "strides": [2, 2],
                                             "pads": [1, 1, 1, 1]})
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("op", ["AveragePool", "GlobalAveragePool", "GlobalMaxPool"])
def test_avg_and_global_pool_float16(op: str) -> None:
    x = rand(2, 3, 7, 6, dtype="float16")
    attrs = {"kernel_shape": [3, 2], "pads": [1, 0, 1, 1]} if op == "AveragePool" else {}
    check_against_ort(make_model(op, {"x": x}, attrs), {"x": x}, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("opset", [1, 7, 8, 10, 11, 12])
def test_pool_old_opsets(opset: int) -> None:
    x = rand(1, 2, 6, 6)
    attrs = {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1]}
    check_against_ort(make_model("MaxPool", {"x": x}, attrs, opset=opset), {"x": x})
    if opset >= 7:  # onnxruntime implements AveragePool from opset 7
        attrs["count_include_pad"] = 1
        check_against_ort(make_model("AveragePool", {"x": x}, attrs, opset=opset), {"x": x})


def test_max_pool_indices_output_is_unsupported() -> None:
    x = rand(1, 1, 4, 4)
    model = make_model("MaxPool", {"x": x}, {"kernel_shape": [2, 2]}, outputs=2)
    with pytest.raises(UnsupportedError, match="output 1"):
        from_onnx(model)


def test_max_pool_storage_order_without_indices() -> None:
    x = rand(1, 1, 4, 4)
    model = make_model("MaxPool", {"x": x}, {"kernel_shape": [2, 2], "storage_order": 1})
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [2, 2], "dilations": [2, 2]},
    {"kernel_shape": [3, 2], "dilations": [2, 3], "strides": [2, 1], "pads": [1, 1, 2, 1]},
    {"kernel_shape": [2, 2], "dilations": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
    {"kernel_shape": [2, 2], "dilations": [2, 2], "ceil_mode": 1, "strides": [2, 2]},
])
def test_avg_pool_dilations(attrs: dict) -> None:
    x = rand(1, 2, 7, 8)
    check_against_ort(make_model("AveragePool", {"x": x}, attrs, opset=19), {"x": x})


def test_pool_3d_is_unsupported() -> None:
    x = rand(1, 1, 4, 4, 4)
    model = make_model("MaxPool", {"x": x}, {"kernel_shape": [2, 2, 2]})
    with pytest.raises(UnsupportedError, match="3-D"):
        from_onnx(model)


def test_max_pool_nan_and_inf() -> None:
    x = rand(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 3, 3] = -np.inf
    x[0, 0, 2, 0] = np.inf
    model = make_model("MaxPool", {"x": x}, {"kernel_shape": [2, 2], "strides": [2, 2]})
    check_against_ort(model, {"x": x})


# ---------------------------------------------------------------------- global pools
@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (1, 4, 7), (1, 2, 3, 4, 5), (2, 3, 1, 1)])
def test_global_pool(op: str, shape: tuple) -> None:
    x = rand(*shape)
    check_against_ort(make_model(op, {"x": x}), {"x": x})


# ---------------------------------------------------------------------- type rules
def test_pool_type_rules() -> None:
    x = TensorType((1, 64, 112, 112), layout="NCHW")
    attrs = normalize_attrs("nn.max_pool2d", {"kernel": (3, 3), "strides": (2, 2),
                                              "pads": (1, 1, 1, 1)})
    assert infer_type("nn.max_pool2d", [x], attrs) == TensorType((1, 64, 56, 56), layout="NCHW")
    with pytest.raises(TypeInferenceError, match="kernel"):
        normalize_attrs("nn.max_pool2d", {})
    with pytest.raises(TypeInferenceError, match="floating"):
        infer_type("nn.avg_pool2d", [TensorType((1, 1, 4, 4), "int8")],
                   normalize_attrs("nn.avg_pool2d", {"kernel": (2, 2)}))
    with pytest.raises(EdgeccError, match="NHWC"):
        infer_type("nn.global_avg_pool2d", [TensorType((1, 4, 4, 2))], {"layout": "NHWC"})
    assert get_op("nn.global_avg_pool2d").ref is not None


# ---------------------------------------------------------------------- ONNX node cases
CASES = node_cases({"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"})
UNSUPPORTED = {
    "test_maxpool_3d_default": "3-D pooling is not implemented",
    "test_maxpool_3d_dilations": "3-D pooling is not implemented",
    "test_maxpool_3d_dilations_use_ref_impl": "3-D pooling is not implemented",
    "test_maxpool_3d_dilations_use_ref_impl_large": "3-D pooling is not implemented",
    "test_averagepool_3d_default": "3-D pooling is not implemented",
    "test_averagepool_3d_dilations_small": "3-D pooling is not implemented",
    "test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True": "3-D",
    "test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_False": "3-D",
    "test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True": "3-D",
    "test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_False": "3-D",
    "test_maxpool_with_argmax_2d_precomputed_pads": "the Indices output is not implemented",
    "test_maxpool_with_argmax_2d_precomputed_strides": "the Indices output is not implemented",
}


def test_node_cases_found() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name], backend=InterpreterBackend,
                    fails_with="^UnsupportedError: " if name in UNSUPPORTED else None)
