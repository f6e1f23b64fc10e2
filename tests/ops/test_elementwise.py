"""Elementwise ops: ONNX arithmetic, comparison, logical, unary math, Where, Cast, Clip against
onnxruntime, legacy (opset < 7) broadcasting, type rules, and ONNX's node cases."""

from __future__ import annotations

import re

import numpy as np
import pytest
from onnx import TensorProto, helper

from edgecc.errors import TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx.importer import from_onnx
from edgecc.ir.graph import Graph
from edgecc.ir.types import TensorType
from edgecc.ops import get_op, list_ops
from edgecc.testing.single_op import (
    RandomArrays,
    check_against_ort,
    check_node_case,
    make_model,
    node_cases,
    run_edgecc,
)

rand = RandomArrays(0, uniform=(-3, 3))


# ---------------------------------------------------------------------- binary arithmetic
SHAPES = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)),
          ((1, 3, 1), (2, 1, 5))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Max", "Min"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_binary_arith(op: str, shapes: tuple, dtype: str) -> None:
    a, b = rand(*shapes[0], dtype=dtype, low=-9, high=9), rand(*shapes[1], dtype=dtype)
    if op == "Div":
        b = np.where(b == 0, 2, b).astype(dtype)  # integer x / 0 is undefined
    check_against_ort(make_model(op, {"a": a, "b": b}, opset=13), {"a": a, "b": b})


@pytest.mark.parametrize("opset", [7, 13, 14])
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_binary_opsets_and_const(op: str, opset: int) -> None:
    a, b = rand(2, 3, 4), rand(3, 1, low=0.5, high=2)
    model = make_model(op, {"a": a, "b": b}, opset=opset, consts=("b",))
    check_against_ort(model, {"a": a, "b": b})


def test_int_division_truncates_toward_zero() -> None:
    a = np.array([7, -7, 7, -7, 0, 1, -1], dtype=np.int32)
    b = np.array([2, 2, -2, -2, 3, -3, 3], dtype=np.int32)
    (got,) = check_against_ort(make_model("Div", {"a": a, "b": b}), {"a": a, "b": b})
    np.testing.assert_array_equal(got, [3, -3, -3, 3, 0, 0, 0])


@pytest.mark.parametrize(("a_dtype", "b_dtype"), [("float32", "float32"), ("float32", "int64"),
                                                  ("int32", "int32"), ("int64", "int64"),
                                                  ("float64", "float32")])
def test_pow(a_dtype: str, b_dtype: str) -> None:
    a = rand(2, 3, dtype=a_dtype, low=1 if a_dtype[0] == "i" else 0.2, high=4)
    b = rand(3, dtype=b_dtype, low=0, high=3)
    check_against_ort(make_model("Pow", {"a": a, "b": b}, opset=15), {"a": a, "b": b})


@pytest.mark.parametrize("fmod", [0, 1])
@pytest.mark.parametrize("dtype", ["int32", "int64", "int8"])
def test_mod_int(fmod: int, dtype: str) -> None:
    a, b = rand(3, 5, dtype=dtype, low=-20, high=20), rand(5, dtype=dtype, low=1, high=6)
    b[::2] *= -1
    check_against_ort(make_model("Mod", {"a": a, "b": b}, {"fmod": fmod}), {"a": a, "b": b})


def test_mod_float_fmod() -> None:
    a, b = rand(4, 5, low=-10, high=10), rand(5, low=0.5, high=3)
    check_against_ort(make_model("Mod", {"a": a, "b": b}, {"fmod": 1}), {"a": a, "b": b})


def test_mod_float_floor_semantics() -> None:
    # onnxruntime rejects fmod=0 on floats (ONNX says fmod must be 1 there); edgecc gives
    # numpy's floor-mod, sign of the divisor
    a = np.array([5.5, -5.5, 5.5, -5.5], dtype=np.float32)
    b = np.array([2, 2, -2, -2], dtype=np.float32)
    (got,) = run_edgecc(make_model("Mod", {"a": a, "b": b}), {"a": a, "b": b})
    np.testing.assert_allclose(got, [1.5, 0.5, -0.5, -1.5])


# ---------------------------------------------------------------------- comparisons, logic
@pytest.mark.parametrize("shapes", SHAPES[:3], ids=str)
@pytest.mark.parametrize(("op", "opset"), [("Equal", 13), ("Greater", 13), ("Less", 13),
                                           ("GreaterOrEqual", 12), ("GreaterOrEqual", 16),
                                           ("LessOrEqual", 16), ("Equal", 11), ("Less", 9)])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_compare(op: str, opset: int, shapes: tuple, dtype: str) -> None:
    a, b = rand(*shapes[0], dtype=dtype, low=-2, high=2), rand(*shapes[1], dtype=dtype)
    if dtype == "float32":
        a, b = np.round(a), np.round(b)  # so that equality happens
    (got,) = check_against_ort(make_model(op, {"a": a, "b": b}, opset=opset), {"a": a, "b": b})
    assert got.dtype == np.bool_


def test_equal_bool() -> None:
    a, b = rand(3, 4, dtype="bool"), rand(4, dtype="bool")
    check_against_ort(make_model("Equal", {"a": a, "b": b}, opset=13), {"a": a, "b": b})


@pytest.mark.parametrize("shapes", SHAPES[:3], ids=str)
@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logical(op: str, shapes: tuple) -> None:
    a, b = rand(*shapes[0], dtype="bool"), rand(*shapes[1], dtype="bool")
    check_against_ort(make_model(op, {"a": a, "b": b}), {"a": a, "b": b})


def test_not() -> None:
    x = rand(3, 4, dtype="bool")
    check_against_ort(make_model("Not", {"x": x}), {"x": x})


# ---------------------------------------------------------------------- unary
SPECIAL = np.array([0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1e-3, 40.0, -40.0, 88.0, -100.0],
                   dtype=np.float32)


@pytest.mark.parametrize(("op", "low", "high"), [
    ("Sqrt", 0, 9), ("Exp", -10, 10), ("Log", 0.01, 100), ("Erf", -4, 4), ("Neg", -5, 5),
    ("Abs", -5, 5), ("Reciprocal", 0.1, 5), ("Floor", -5, 5), ("Ceil", -5, 5),
    ("Round", -5, 5), ("Sign", -5, 5), ("Sin", -7, 7), ("Cos", -7, 7), ("Tanh", -6, 6),
    ("Sigmoid", -30, 30)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_float(op: str, low: float, high: float, dtype: str) -> None:
    if op == "Erf" and dtype == "float64":
        pytest.skip("onnxruntime has no float64 Erf")
    x = rand(2, 3, 5, dtype=dtype, low=low, high=high)
    check_against_ort(make_model(op, {"x": x}), {"x": x})


@pytest.mark.parametrize("op", ["Round", "Sign", "Sigmoid", "Tanh", "Floor", "Ceil", "Neg",
                                "Abs", "Erf", "Exp"])
def test_unary_special_values(op: str) -> None:
    check_against_ort(make_model(op, {"x": SPECIAL}), {"x": SPECIAL})


@pytest.mark.parametrize("op", ["Neg", "Abs", "Sign"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "int8"])
def test_unary_int(op: str, dtype: str) -> None:
    x = rand(3, 4, dtype=dtype, low=-100, high=100)
    check_against_ort(make_model(op, {"x": x}), {"x": x})


def test_unary_float16() -> None:
    x = rand(4, 5, dtype="float16")
    for op in ("Sigmoid", "Exp", "Tanh", "Abs"):
        check_against_ort(make_model(op, {"x": x}), {"x": x}, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("opset", [6, 13])
def test_legacy_unary_opsets(opset: int) -> None:
    x = rand(2, 3, low=0.1)
    for op in ("Sqrt", "Sigmoid", "Floor"):
        check_against_ort(make_model(op, {"x": x}, opset=opset), {"x": x})


def test_opset1_consumed_inputs_is_accepted() -> None:
    x = rand(2, 3, low=0.1)
    model = make_model("Sqrt", {"x": x}, {"consumed_inputs": [0]}, opset=1)
    np.testing.assert_allclose(run_edgecc(model, {"x": x})[0], np.sqrt(x), rtol=1e-6)


X_NAN_INF = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 3.0], dtype=np.float32)


@pytest.mark.parametrize("opset", [13, 20])
def test_isnan(opset: int) -> None:
    check_against_ort(make_model("IsNaN", {"x": X_NAN_INF}, opset=opset), {"x": X_NAN_INF})


@pytest.mark.parametrize(("neg", "pos"), [(1, 1), (0, 1), (1, 0), (0, 0)])
def test_isinf(neg: int, pos: int) -> None:
    model = make_model("IsInf", {"x": X_NAN_INF},
                       {"detect_negative": neg, "detect_positive": pos}, opset=10)
    check_against_ort(model, {"x": X_NAN_INF})


# ---------------------------------------------------------------------- variadic
@pytest.mark.parametrize("shapes", [[(3, 4)], [(3, 4), (3, 4)], [(2, 3, 4), (4,), (3, 1)]],
                         ids=str)
@pytest.mark.parametrize("op", ["Sum", "Mean", "Max", "Min"])
def test_variadic(op: str, shapes: list) -> None:
    feeds = {f"x{i}": rand(*s) for i, s in enumerate(shapes)}
    check_against_ort(make_model(op, feeds, opset=13), feeds)


def test_variadic_int_max() -> None:
    feeds = {f"x{i}": rand(2, 3, dtype="int32", low=-50, high=50) for i in range(4)}
    check_against_ort(make_model("Max", feeds, opset=13), feeds)


def test_sum_opset6_equal_shapes() -> None:
    feeds = {f"x{i}": rand(2, 3) for i in range(3)}
    (got,) = run_edgecc(make_model("Sum", feeds, opset=6), feeds)
    np.testing.assert_allclose(got, sum(feeds.values()), rtol=1e-6)


# ---------------------------------------------------------------------- where
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), (1,)),
                                    ((2, 1), (1, 4), ()), ((1, 3, 1), (2, 1, 1), (4,))], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_where(shapes: tuple, dtype: str) -> None:
    feeds = {"c": rand(*shapes[0], dtype="bool"), "a": rand(*shapes[1], dtype=dtype),
             "b": rand(*shapes[2], dtype=dtype)}
    check_against_ort(make_model("Where", feeds), feeds)


# ---------------------------------------------------------------------- cast
CASTS = [
    ("float32", TensorProto.INT32), ("float32", TensorProto.INT64), ("float32", TensorProto.INT8),
    ("float32", TensorProto.FLOAT16), ("float32", TensorProto.DOUBLE),
    ("float32", TensorProto.BOOL), ("float64", TensorProto.FLOAT), ("int32", TensorProto.FLOAT),
    ("int64", TensorProto.INT32), ("int32", TensorProto.INT8), ("int32", TensorProto.UINT8),
    ("bool", TensorProto.FLOAT), ("bool", TensorProto.INT64), ("int64", TensorProto.BOOL),
    ("float16", TensorProto.FLOAT), ("uint8", TensorProto.INT32),
]


@pytest.mark.parametrize(("src", "to"), CASTS, ids=str)
@pytest.mark.parametrize("opset", [6, 13, 19, 21])
def test_cast(src: str, to: int, opset: int) -> None:
    if np.dtype(src).kind in "iu":
        x = rand(3, 4, dtype=src, low=0 if src[0] == "u" else -300, high=300)
    else:
        x = rand(3, 4, dtype=src, low=-100, high=100)
        if to == TensorProto.BOOL:
            x[0, :2] = 0
        if to in (TensorProto.INT8,):
            x = np.clip(x, -120, 120).astype(src)  # out-of-range float to int is undefined
    check_against_ort(make_model("Cast", {"x": x}, {"to": to}, opset=opset), {"x": x})


def test_cast_opset1_string_to() -> None:
    x = rand(2, 3, low=-9, high=9)
    (got,) = run_edgecc(make_model("Cast", {"x": x}, {"to": "INT32"}, opset=1), {"x": x})
    np.testing.assert_array_equal(got, x.astype(np.int32))


@pytest.mark.parametrize("to", [TensorProto.FLOAT8E4M3FN, TensorProto.INT4, TensorProto.STRING])
def test_cast_unsupported_dtype(to: int) -> None:
    x = rand(2, 3)
    with pytest.raises(UnsupportedError, match="element type .* not supported"):
        from_onnx(make_model("Cast", {"x": x}, {"to": to}, opset=21))


def test_cast_bfloat16_roundtrip() -> None:
    x = rand(2, 3)
    node1 = helper.make_node("Cast", ["x"], ["t"], to=TensorProto.BFLOAT16)
    node2 = helper.make_node("Cast", ["t"], ["y"], to=TensorProto.FLOAT)
    graph = helper.make_graph([node1, node2], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_empty_tensor_value_info("y")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    check_against_ort(model, {"x": x}, rtol=1e-2)


@pytest.mark.parametrize(("src", "like"), [("float32", "int32"), ("int64", "float32"),
                                           ("float32", "float16")])
def test_cast_like(src: str, like: str) -> None:
    x, t = rand(3, 4, dtype=src, low=-50, high=50), rand(1, dtype=like)
    check_against_ort(make_model("CastLike", {"x": x, "t": t}, opset=15), {"x": x, "t": t})


# ---------------------------------------------------------------------- clip
@pytest.mark.parametrize(("lo", "hi"), [(-1.0, 1.0), (None, 0.5), (-0.5, None), (None, None),
                                        (2.0, 1.0)])
@pytest.mark.parametrize("opset", [11, 12, 13])
def test_clip_inputs(lo: float | None, hi: float | None, opset: int) -> None:
    x = rand(3, 4)
    inputs: dict[str, np.ndarray | None] = {
        "x": x, "lo": None if lo is None else np.float32(lo),
        "hi": None if hi is None else np.float32(hi)}
    model = make_model("Clip", inputs, opset=opset, consts=("lo", "hi"),
                       drop_trailing_empty=False)
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("attrs", [{"min": -1.0, "max": 1.0}, {"max": 0.0}, {"min": 0.0}, {}],
                         ids=str)
def test_clip_attrs_opset6(attrs: dict) -> None:
    x = rand(3, 4)
    check_against_ort(make_model("Clip", {"x": x}, attrs, opset=6), {"x": x})


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8"])
def test_clip_int(dtype: str) -> None:
    x = rand(3, 4, dtype=dtype, low=0 if dtype[0] == "u" else -100, high=100)
    lo, hi = np.array(5 if dtype[0] == "u" else -20, dtype), np.array(30, dtype)
    model = make_model("Clip", {"x": x, "lo": lo, "hi": hi}, opset=13, consts=("lo", "hi"))
    check_against_ort(model, {"x": x})


def test_clip_int64_extreme_bounds() -> None:
    x = np.array([-2**62, 0, 2**62], dtype=np.int64)
    lo, hi = np.array(np.iinfo(np.int64).min), np.array(np.iinfo(np.int64).max)
    model = make_model("Clip", {"x": x, "lo": lo, "hi": hi}, opset=13, consts=("lo", "hi"))
    check_against_ort(model, {"x": x})


def test_clip_dynamic_bound_is_rejected() -> None:
    x, lo = rand(3, 4), np.float32(0)
    with pytest.raises(UnsupportedError, match="compile-time constant"):
        from_onnx(make_model("Clip", {"x": x, "lo": lo}, opset=13))


# ---------------------------------------------------------------------- legacy broadcasting
def _legacy(op: str, a: np.ndarray, b: np.ndarray, attrs: dict, const_b: bool) -> np.ndarray:
    model = make_model(op, {"a": a, "b": b}, attrs, opset=6, consts=("b",) if const_b else ())
    return run_edgecc(model, {"a": a, "b": b})[0]


@pytest.mark.parametrize("const_b", [True, False])
def test_legacy_broadcast_suffix(const_b: bool) -> None:
    a, b = rand(2, 3, 4), rand(4)
    got = _legacy("Add", a, b, {"broadcast": 1}, const_b)
    np.testing.assert_allclose(got, a + b, rtol=1e-6)


@pytest.mark.parametrize(("b_shape", "axis"), [((3,), 1), ((3, 4), 1), ((2,), 0), ((2, 3), 0),
                                               ((3, 1), 1), ((3,), -2)])
@pytest.mark.parametrize("const_b", [True, False])
def test_legacy_broadcast_axis(b_shape: tuple, axis: int, const_b: bool) -> None:
    if not const_b and "reshape" not in list_ops():
        pytest.skip("a run-time B needs the transform family's reshape op")
    a, b = rand(2, 3, 4), rand(*b_shape)
    got = _legacy("Mul", a, b, {"broadcast": 1, "axis": axis}, const_b)
    start = axis % 3
    expected = a * b.reshape(b_shape + (1,) * (3 - start - len(b_shape)))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_legacy_no_broadcast_needs_equal_shapes() -> None:
    a, b = rand(2, 3), rand(3)
    with pytest.raises(Exception, match="without broadcast=1"):
        _legacy("Sub", a, b, {}, True)
    np.testing.assert_allclose(_legacy("Sub", a, a, {}, False), 0 * a)


def test_legacy_broadcast_mismatch() -> None:
    with pytest.raises(Exception, match="does not broadcast"):
        _legacy("Add", rand(2, 3, 4), rand(5), {"broadcast": 1, "axis": 1}, True)


def test_legacy_compare_and_pow() -> None:
    a, b = rand(2, 3, 4), rand(2, low=0, high=2)
    got = _legacy("Greater", a, b, {"broadcast": 1, "axis": 0}, True)
    np.testing.assert_array_equal(got, a > b.reshape(2, 1, 1))
    a = np.abs(a) + 0.1
    got = _legacy("Pow", a, b, {"broadcast": 1, "axis": 0}, True)
    np.testing.assert_allclose(got, a ** b.reshape(2, 1, 1), rtol=1e-5)


# ---------------------------------------------------------------------- type rules
def _graph(*types: TensorType) -> tuple[Graph, list]:
    g = Graph()
    return g, [g.add_input(f"x{i}", t) for i, t in enumerate(types)]


@pytest.mark.parametrize("op", ["add", "maximum", "equal", "where"])
def test_dtype_mismatch_is_a_type_error(op: str) -> None:
    types = [TensorType((2, 3), "float32"), TensorType((2, 3), "int32")]
    if op == "where":
        types.insert(0, TensorType((2, 3), "bool"))
    g, xs = _graph(*types)
    with pytest.raises(TypeInferenceError, match="one dtype"):
        g.create_node(op, xs)


def test_shapes_that_do_not_broadcast() -> None:
    g, xs = _graph(TensorType((2, 3)), TensorType((4,)))
    with pytest.raises(TypeInferenceError, match="do not broadcast"):
        g.create_node("mul", xs)


def test_type_rules_and_layout() -> None:
    g, (a, b, c) = _graph(TensorType((1, 3, 4, 4), layout="NCHW"),
                          TensorType((1, 3, 4, 4), layout="NCHW"), TensorType((3, 1, 1)))
    assert g.create_node("add", [a, b]).type == TensorType((1, 3, 4, 4), layout="NCHW")
    assert g.create_node("add", [a, c]).type.layout is None
    assert g.create_node("less", [a, c]).type == TensorType((1, 3, 4, 4), "bool")
    assert g.create_node("exp", [a]).type.layout == "NCHW"
    assert g.create_node("isnan", [a]).type.dtype == "bool"
    assert g.create_node("cast", [a], {"dtype": "int8"}).type.dtype == "int8"
    assert g.create_node("clip", [a], {"max": 6.0}).type == a.type


@pytest.mark.parametrize(("op", "dtype"), [("sqrt", "int32"), ("logical_not", "float32"),
                                           ("logical_and", "int32"), ("isnan", "int64")])
def test_bad_input_dtypes(op: str, dtype: str) -> None:
    n = 2 if op == "logical_and" else 1
    g, xs = _graph(*[TensorType((2,), dtype)] * n)
    with pytest.raises(TypeInferenceError):
        g.create_node(op, xs)


def test_patterns() -> None:
    from edgecc.ops import OpPattern

    assert get_op("add").pattern == OpPattern.BROADCAST
    assert get_op("exp").pattern == OpPattern.ELEMWISE
    assert get_op("where").pattern == OpPattern.BROADCAST
    assert get_op("cast").ref is not None


# ---------------------------------------------------------------------- ONNX node cases
ONNX_OPS = {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Equal",
            "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Not", "Sqrt",
            "Exp", "Log", "Erf", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
            "Sin", "Cos", "Tanh", "Sigmoid", "IsNaN", "IsInf", "Where", "Cast", "CastLike",
            "Clip"}
# the case names of this family (`test_and2d`, `test_max_example`, `test_castlike_...`)
CASE_NAMES = re.compile(
    r"^test_(add|sub|mul|div|pow|mod|max|min|sum|mean|equal|greater|less|greater_equal|"
    r"less_equal|and|or|xor|not|sqrt|exp|log|erf|neg|abs|reciprocal|floor|ceil|round|sign|sin|"
    r"cos|tanh|sigmoid|isnan|isinf|where|cast|castlike|clip)(_|\d|$)")
# element types edgecc has no dtype for: these cases must fail with a clear UnsupportedError
UNSUPPORTED = re.compile(r"(?i)float8|e4m3|e5m2|e8m0|float4e2m1|(^|_)u?int[24](_|$)|_string")
ALL_FAMILY_OPS = ONNX_OPS | {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Celu", "Selu", "HardSigmoid", "HardSwish", "Softplus",
    "Softsign", "Mish", "Gelu", "Softmax", "LogSoftmax", "ReduceSum", "ReduceMean", "ReduceMax",
    "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp",
    "ArgMax", "ArgMin", "QuantizeLinear", "DequantizeLinear"}


CASES = node_cases(ONNX_OPS, names=CASE_NAMES, allowed=ALL_FAMILY_OPS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name],
                    fails_with="not supported" if UNSUPPORTED.search(name) else None)
