"""Activation ops: ONNX ReLU family, GELU, Softmax/LogSoftmax against onnxruntime, type rules,
and ONNX's node cases."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgecc.errors import TypeInferenceError
from edgecc.ir.graph import Graph
from edgecc.ir.types import TensorType
from edgecc.ops import OpPattern, get_op
from edgecc.testing.single_op import (
    RandomArrays,
    check_against_ort,
    check_node_case,
    make_model,
    node_cases,
    run_edgecc,
)

rand = RandomArrays(1, uniform=(-4, 4))


# ---------------------------------------------------------------------- elementwise activations
ACTIVATIONS = [
    ("Relu", {}, 14), ("Relu", {}, 6), ("LeakyRelu", {}, 16), ("LeakyRelu", {"alpha": 0.3}, 6),
    ("Elu", {}, 6), ("Elu", {"alpha": 0.5}, 22), ("Celu", {}, 12), ("Celu", {"alpha": 2.0}, 12),
    ("Selu", {}, 6), ("Selu", {"alpha": 2.0, "gamma": 1.5}, 22), ("HardSigmoid", {}, 6),
    ("HardSigmoid", {"alpha": 0.1, "beta": 0.6}, 22), ("HardSwish", {}, 14),
    ("Softplus", {}, 1), ("Softsign", {}, 1), ("Mish", {}, 18), ("Gelu", {}, 20),
    ("Gelu", {"approximate": "tanh"}, 20), ("Gelu", {"approximate": "none"}, 20),
]


@pytest.mark.parametrize(("op", "attrs", "opset"), ACTIVATIONS, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (7,), ()], ids=str)
def test_activation(op: str, attrs: dict, opset: int, shape: tuple) -> None:
    x = rand(*shape, low=-8, high=8)
    check_against_ort(make_model(op, {"x": x}, attrs, opset=opset), {"x": x})


@pytest.mark.parametrize(("op", "opset"), [("Softplus", 1), ("Mish", 18), ("Elu", 6),
                                           ("Selu", 6), ("Celu", 12), ("Gelu", 20)])
def test_activation_extremes(op: str, opset: int) -> None:
    x = np.array([-1000, -90, -20, -1e-4, 0, 1e-4, 20, 90, 1000], dtype=np.float32)
    check_against_ort(make_model(op, {"x": x}, opset=opset), {"x": x})


def test_activation_float64() -> None:
    x = rand(3, 4, dtype="float64")  # onnxruntime has float64 kernels for few activations
    check_against_ort(make_model("Relu", {"x": x}, opset=14), {"x": x})
    for op in ("LeakyRelu", "Softplus", "Gelu", "HardSwish", "Mish"):
        (got,) = run_edgecc(make_model(op, {"x": x}, opset=20), {"x": x})
        assert got.dtype == np.float64 and got.shape == x.shape


@pytest.mark.parametrize("dtype", ["int8", "int32"])
def test_relu_int(dtype: str) -> None:
    x = rand(3, 4, dtype=dtype, low=-100, high=100)
    check_against_ort(make_model("Relu", {"x": x}, opset=14), {"x": x})


def test_activation_float16() -> None:
    x = rand(2, 8, dtype="float16")
    for op, opset in (("Relu", 14), ("LeakyRelu", 16), ("Gelu", 20)):
        check_against_ort(make_model(op, {"x": x}, opset=opset), {"x": x}, rtol=2e-3, atol=2e-3)


def test_opset1_consumed_inputs_is_accepted() -> None:
    x = rand(2, 3)
    (got,) = run_edgecc(make_model("Relu", {"x": x}, {"consumed_inputs": [0]}, opset=1), {"x": x})
    np.testing.assert_array_equal(got, np.maximum(x, 0))


# ---------------------------------------------------------------------- prelu
@pytest.mark.parametrize("slope_shape", [(3, 1, 1), (1,), (), (2, 3, 4, 5), (5,), (1, 3, 1, 5)],
                         ids=str)
@pytest.mark.parametrize("opset", [9, 16])
@pytest.mark.parametrize("const", [True, False])
def test_prelu(slope_shape: tuple, opset: int, const: bool) -> None:
    x, slope = rand(2, 3, 4, 5), rand(*slope_shape, low=0, high=1)
    check_against_ort(make_model("PRelu", {"x": x, "s": slope}, opset=opset,
                                 consts=("s",) if const else ()), {"x": x, "s": slope})


def test_prelu_int() -> None:
    x, slope = rand(2, 3, dtype="int32", low=-50, high=50), rand(3, dtype="int32", low=0,
                                                                 high=4)
    check_against_ort(make_model("PRelu", {"x": x, "s": slope}, opset=16), {"x": x, "s": slope})


@pytest.mark.parametrize("const", [True, False])
def test_prelu_opset6_slope_per_channel(const: bool) -> None:
    # before opset 7 a 1-D slope is per channel (axis 1), whatever the rank
    x, slope = rand(2, 3, 4, 5), rand(3, low=0, high=1)
    model = make_model("PRelu", {"x": x, "s": slope}, opset=6, consts=("s",) if const else ())
    (got,) = run_edgecc(model, {"x": x, "s": slope})
    np.testing.assert_allclose(got, np.where(x >= 0, x, x * slope.reshape(3, 1, 1)), rtol=1e-6)


def test_prelu_slope_must_broadcast_to_x() -> None:
    g = Graph()
    x, s = g.add_input("x", TensorType((2, 3))), g.add_input("s", TensorType((4, 2, 3)))
    with pytest.raises(TypeInferenceError, match="does not broadcast"):
        g.create_node("nn.prelu", [x, s])


# ---------------------------------------------------------------------- softmax
@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("axis", [-1, 0, 1, 2, -2])
@pytest.mark.parametrize("opset", [13, 11, 1])
def test_softmax(op: str, axis: int, opset: int) -> None:
    x = rand(2, 3, 4, low=-10, high=10)
    check_against_ort(make_model(op, {"x": x}, {"axis": axis}, opset=opset), {"x": x})


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset", [13, 11])
def test_softmax_default_axis(op: str, opset: int) -> None:
    x = rand(2, 3, 4)
    check_against_ort(make_model(op, {"x": x}, opset=opset), {"x": x})


def test_softmax_opset11_uses_2d_semantics() -> None:
    # opset < 13 normalizes over all dims from axis on, not just axis
    x = rand(2, 3, 4)
    (got,) = run_edgecc(make_model("Softmax", {"x": x}, {"axis": 1}, opset=11), {"x": x})
    np.testing.assert_allclose(got.sum(axis=(1, 2)), np.ones(2), rtol=1e-5)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_large_and_inf(op: str) -> None:
    x = np.array([[1000, 1001, 1002, -np.inf], [-1e30, 0, 1e30, 5]], dtype=np.float32)
    check_against_ort(make_model(op, {"x": x}, opset=13), {"x": x})


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_softmax_dtypes(dtype: str) -> None:
    x = rand(3, 7, dtype=dtype)
    tol = 2e-3 if dtype == "float16" else 1e-6
    check_against_ort(make_model("Softmax", {"x": x}, opset=13), {"x": x}, rtol=tol, atol=tol)


def test_softmax_type_rule() -> None:
    g = Graph()
    x = g.add_input("x", TensorType((2, 3), layout="NC"))
    assert g.create_node("nn.softmax", [x], {"axis": 1}).type == x.type
    with pytest.raises(TypeInferenceError, match="out of range"):
        g.create_node("nn.log_softmax", [x], {"axis": 2})
    assert get_op("nn.softmax").pattern == OpPattern.REDUCTION
    assert get_op("nn.relu").pattern == OpPattern.ELEMWISE


def test_gelu_bad_approximate() -> None:
    g = Graph()
    x = g.add_input("x", TensorType((2,)))
    with pytest.raises(TypeInferenceError, match="approximate"):
        g.create_node("nn.gelu", [x], {"approximate": "fast"})


def test_float_only_activation_rejects_ints() -> None:
    g = Graph()
    x = g.add_input("x", TensorType((2,), "int32"))
    with pytest.raises(TypeInferenceError, match="floating-point"):
        g.create_node("nn.elu", [x])
    assert g.create_node("nn.relu", [x]).type.dtype == "int32"


# ---------------------------------------------------------------------- ONNX node cases
ONNX_OPS = {"Relu", "LeakyRelu", "PRelu", "Elu", "Celu", "Selu", "HardSigmoid", "HardSwish",
            "Softplus", "Softsign", "Mish", "Gelu", "Softmax", "LogSoftmax"}
CASE_NAMES = re.compile(r"^test_(relu|leakyrelu|prelu|elu|celu|selu|hardsigmoid|hardswish|"
                        r"softplus|softsign|mish|gelu|softmax|logsoftmax)(_|$)")
ALL_FAMILY_OPS = ONNX_OPS | {
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Greater",
    "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Not", "Sqrt", "Exp", "Log",
    "Erf", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tanh",
    "Sigmoid", "IsNaN", "IsInf", "Where", "Cast", "CastLike", "Clip", "ReduceSum", "ReduceMean",
    "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
    "ReduceLogSumExp", "ArgMax", "ArgMin", "QuantizeLinear", "DequantizeLinear"}


CASES = node_cases(ONNX_OPS, names=CASE_NAMES, allowed=ALL_FAMILY_OPS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name])
