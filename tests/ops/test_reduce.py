"""Reductions: ONNX Reduce* (axes as attribute and as input), ArgMax/ArgMin against onnxruntime,
noop_with_empty_axes, empty sets, type rules, and ONNX's node cases."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import onnx
import pytest

from edgecc.errors import TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx.importer import from_onnx
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

rand = RandomArrays(2, uniform=(-3, 3))


REDUCES = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
           "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]
# the opset where `axes` moved from an attribute to an input
INPUT_SINCE = {op: 13 if op == "ReduceSum" else 18 for op in REDUCES}
AXES = [None, [0], [1], [-1], [0, 2], [2, 0], [-3, -1], [0, 1, 2]]


def reduce_model(op: str, x: np.ndarray, axes: list[int] | None, keepdims: int | None,
                 opset: int, **extra: int) -> onnx.ModelProto:
    attrs: dict[str, Any] = dict(extra)
    if keepdims is not None:
        attrs["keepdims"] = keepdims
    if opset < INPUT_SINCE[op]:
        if axes is not None:
            attrs["axes"] = axes
        return make_model(op, {"x": x}, attrs, opset=opset)
    inputs = {"x": x, "axes": None if axes is None else np.array(axes, dtype=np.int64)}
    return make_model(op, inputs, attrs, opset=opset, consts=("axes",))


# ---------------------------------------------------------------------- reduce
@pytest.mark.parametrize("axes", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [None, 0, 1])
@pytest.mark.parametrize("op", REDUCES)
@pytest.mark.parametrize("form", ["attr", "input"])
def test_reduce(op: str, keepdims: int | None, axes: list[int] | None, form: str) -> None:
    opset = INPUT_SINCE[op] if form == "input" else 11
    x = rand(2, 3, 4, low=0.5 if op == "ReduceProd" else -3, high=2 if op == "ReduceProd" else 3)
    check_against_ort(reduce_model(op, x, axes, keepdims, opset), {"x": x})


@pytest.mark.parametrize("op", REDUCES)
@pytest.mark.parametrize("opset", [1, 13, 18, 20])
def test_reduce_opsets(op: str, opset: int) -> None:
    x = rand(3, 5, low=0.5, high=1.5)
    if opset == 1:  # onnxruntime no longer runs opset 1: compare with numpy
        (got,) = run_edgecc(reduce_model(op, x, [1], 0, opset), {"x": x})
        assert got.shape == (3,)
        return
    check_against_ort(reduce_model(op, x, [1], 0, opset), {"x": x})


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
                                "ReduceMean"])
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_reduce_int(op: str, dtype: str) -> None:
    x = rand(3, 4, 5, dtype=dtype, low=-4, high=4)
    check_against_ort(reduce_model(op, x, [1], 1, 18), {"x": x})


@pytest.mark.parametrize("op", REDUCES)
def test_reduce_noop_with_empty_axes(op: str) -> None:
    x = rand(2, 3)
    for axes in (None, []):
        model = reduce_model(op, x, axes, 1, INPUT_SINCE[op], noop_with_empty_axes=1)
        check_against_ort(model, {"x": x})


@pytest.mark.parametrize("op", REDUCES)
def test_reduce_empty_axes_input_reduces_all(op: str) -> None:
    x = rand(2, 3, low=0.5, high=1.5)
    check_against_ort(reduce_model(op, x, [], 0, INPUT_SINCE[op]), {"x": x})


def test_reduce_dynamic_axes_rejected() -> None:
    x, axes = rand(2, 3), np.array([1], dtype=np.int64)
    with pytest.raises(UnsupportedError, match="compile-time constant"):
        from_onnx(make_model("ReduceSum", {"x": x, "axes": axes}, opset=13))


def test_reduce_log_sum_exp_large_values() -> None:
    x = np.array([[1000, 1000, -np.inf], [-np.inf, -np.inf, -np.inf]], dtype=np.float32)
    (got,) = run_edgecc(reduce_model("ReduceLogSumExp", x, [1], 0, 18), {"x": x})
    np.testing.assert_allclose(got, [1000 + np.log(2), -np.inf], rtol=1e-6)


@pytest.mark.parametrize(("op", "fill"), [("reduce.sum", 0), ("reduce.prod", 1),
                                          ("reduce.max", -np.inf), ("reduce.min", np.inf),
                                          ("reduce.log_sum_exp", -np.inf), ("reduce.l2", 0)])
def test_reduce_empty_set(op: str, fill: float) -> None:
    ref = get_op(op).ref
    out = ref(np.zeros((2, 0, 4), np.float32), axes=(1,), keepdims=True)
    assert out.shape == (2, 1, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full((2, 1, 4), fill, np.float32))
    assert get_op("reduce.max").ref(np.zeros((0, 3), np.int32), axes=(0,),
                                    keepdims=False).tolist() == [np.iinfo(np.int32).min] * 3


def test_reduce_type_rules() -> None:
    g = Graph()
    x = g.add_input("x", TensorType((2, 3, 4, 5), layout="NCHW"))
    t = g.create_node("reduce.mean", [x], {"axes": (2, 3)}).type
    assert t == TensorType((2, 3, 1, 1))
    assert g.create_node("reduce.sum", [x], {"keepdims": False}).type == TensorType(())
    assert g.create_node("reduce.max", [x], {"axes": (-1,), "keepdims": False}).type.shape == (
        2, 3, 4)
    assert g.create_node("reduce.l1", [x], {"axes": ()}).type == x.type  # () reduces nothing
    with pytest.raises(TypeInferenceError, match="out of range"):
        g.create_node("reduce.sum", [x], {"axes": (4,)})
    with pytest.raises(TypeInferenceError, match="repeated"):
        g.create_node("reduce.sum", [x], {"axes": (1, -3)})
    assert get_op("reduce.sum").pattern == OpPattern.REDUCTION


# ---------------------------------------------------------------------- argmax / argmin
@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis", [0, 1, -1, None])
@pytest.mark.parametrize("keepdims", [0, 1, None])
@pytest.mark.parametrize("select_last_index", [0, 1])
def test_arg(op: str, axis: int | None, keepdims: int | None, select_last_index: int) -> None:
    x = np.round(rand(3, 4, 5))  # ties, so that select_last_index matters
    attrs = {k: v for k, v in {"axis": axis, "keepdims": keepdims,
                               "select_last_index": select_last_index}.items() if v is not None}
    (got,) = check_against_ort(make_model(op, {"x": x}, attrs, opset=13), {"x": x})
    assert got.dtype == np.int64


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_opset11_int(op: str) -> None:
    x = rand(4, 6, dtype="int32", low=-3, high=3)
    check_against_ort(make_model(op, {"x": x}, {"axis": 1}, opset=11), {"x": x})


def test_arg_type_rule() -> None:
    g = Graph()
    x = g.add_input("x", TensorType((2, 3, 4)))
    assert g.create_node("argmin", [x], {"axis": 1, "keepdims": False}).type == TensorType(
        (2, 4), "int64")
    with pytest.raises(TypeInferenceError, match="out of range"):
        g.create_node("argmax", [x], {"axis": 3})


# ---------------------------------------------------------------------- ONNX node cases
ONNX_OPS = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
            "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp", "ArgMax", "ArgMin"}
CASE_NAMES = re.compile(r"^test_(reduce_(sum|mean|max|min|prod|l1|l2|sum_square|log_sum_exp|"
                        r"log_sum)|argmax|argmin)(_|$)")  # log_sum: its expanded bodies only
ALL_FAMILY_OPS = ONNX_OPS | {
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal", "Greater",
    "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Not", "Sqrt", "Exp", "Log",
    "Erf", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tanh",
    "Sigmoid", "IsNaN", "IsInf", "Where", "Cast", "CastLike", "Clip", "Relu", "LeakyRelu",
    "PRelu", "Elu", "Celu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish",
    "Gelu", "Softmax", "LogSoftmax", "QuantizeLinear", "DequantizeLinear"}


CASES = node_cases(ONNX_OPS, names=CASE_NAMES, allowed=ALL_FAMILY_OPS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name])
