"""Compute rules of the elementwise family, compiled with TVM and checked against the
interpreter: broadcasting, every dtype class, and the values where TVM's conventions differ
from numpy's (NaN in max/min/clip, integer division and modulo, round half to even, bool)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.testing.codegen import check_group, check_op

rng = np.random.default_rng(0)

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, 3.0, -7.25],
                   dtype=np.float32)


def _f(*shape: int, dtype: str = "float32", scale: float = 3.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(dtype)


def _i(*shape: int, dtype: str = "int32", low: int = -20, high: int = 20) -> np.ndarray:
    return rng.integers(low, high, size=shape).astype(dtype)


def _b(*shape: int) -> np.ndarray:
    return rng.random(shape) > 0.5


BCAST = [((2, 3, 4), (2, 3, 4)), ((2, 1, 4), (3, 1)), ((), (2, 3))]


@pytest.mark.parametrize("shapes", BCAST, ids=str)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_float_broadcast(op, shapes) -> None:
    check_op(op, _f(*shapes[0]), _f(*shapes[1]))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "minimum", "div"])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64"])
def test_binary_int(op, dtype) -> None:
    lo = 0 if dtype.startswith("u") else -100
    a, b = _i(3, 8, dtype=dtype, low=lo, high=100), _i(8, dtype=dtype, low=lo, high=100)
    check_op(op, a, b)  # wraps on overflow, as numpy


def test_binary_float16() -> None:
    for op in ("add", "mul", "div", "maximum"):
        check_op(op, _f(4, 5, dtype="float16"), _f(5, dtype="float16"), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("op", ["maximum", "minimum", "add", "div"])
def test_binary_special_values(op) -> None:
    # maximum / minimum propagate NaN from either side (TVM's Max keeps only the first's)
    a = np.repeat(SPECIAL, len(SPECIAL))
    b = np.tile(SPECIAL, len(SPECIAL))
    check_op(op, a, b)


@pytest.mark.parametrize("op", ["add", "mul", "maximum", "minimum", "div"])
def test_binary_bool(op) -> None:
    check_op(op, np.array([True, True, False, False]), np.array([True, False, True, False]))


@pytest.mark.parametrize("dtype", ["int32", "int8", "uint16"])
def test_int_div_truncates(dtype) -> None:
    info = np.iinfo(dtype)
    vals = [info.min, info.min + 1, -7, -6, -1, 0, 1, 6, 7, info.max]
    vals = np.array([v for v in vals if info.min <= v <= info.max], dtype)
    divs = np.array([d for d in (-3, -1, 0, 1, 2, 7) if info.min <= d], dtype)
    a, b = np.repeat(vals, len(divs)), np.tile(divs, len(vals))
    check_op("div", a, b)  # toward zero; x / 0 = 0; INT_MIN / -1 wraps (no trap)


@pytest.mark.parametrize("fmod", [0, 1])
@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "float32", "float16", "float64"])
def test_mod(dtype, fmod) -> None:
    if dtype.startswith("float"):
        a = np.array([5.5, -5.5, 5.5, -5.5, 7.0, -7.0, 0.0, 3.0, 1e3 + 0.25, np.nan, 2.0, -1.0],
                     dtype)
        b = np.array([2.0, 2.0, -2.0, -2.0, 3.5, 3.5, 2.0, 0.0, 3.0, 1.0, np.inf, np.inf],
                     dtype)
    else:
        info = np.iinfo(dtype)
        a = np.array([7, -7, 7, -7, 0, 5, info.min, info.max, 9, -9, 3, 4]).astype(dtype)
        b = np.array([3, 3, -3, -3, 5, 0, -1, 2, 1, 0, 7, 4]).astype(dtype)
    check_op("mod", a, b, attrs={"fmod": fmod})


def test_pow_float() -> None:
    base = np.abs(_f(3, 4)) + 0.1
    check_op("pow", base, _f(3, 4, scale=1.0))
    check_op("pow", _f(3, 4), np.array([2.0, 3.0, 0.0, -1.0], "float32"))
    check_op("pow", _f(2, 3), np.array([2, 3, -1], "int32"))  # float base, int exponent
    check_op("pow", np.abs(_f(5, dtype="float16")), _f(5, dtype="float16", scale=1.0),
             rtol=1e-3, atol=1e-3)


def test_pow_int() -> None:
    a = np.array([2, -3, 5, 0, 1, -1, 7, -2, 3, 10], "int32")
    check_op("pow", a, np.array([10, 5, 0, 3, 100, 7, 20, 31, 40, 1], "int32"))  # wraps
    check_op("pow", a, np.array([-1, -2, 3, 2, -5, -3, 0, 4, -1, 2], "int32"))  # negatives
    check_op("pow", a.astype("int8"), np.array([1, 2, 3, 0, 9, 7, 2, 6, 4, 1], "int64"))
    check_op("pow", np.array([2, 3, 9], "uint8"), np.array([7, 5, 3], "uint8"))
    check_op("pow", a, np.array([0.5, 2.0, 1.5, 3.0, -1.0, 2.0, 0.5, 3.0, 2.5, 1.0], "float32"))


@pytest.mark.parametrize("op", ["equal", "greater", "less", "greater_equal", "less_equal"])
def test_compare(op) -> None:
    check_op(op, np.repeat(SPECIAL, 12), np.tile(SPECIAL, 12))
    check_op(op, _i(2, 5, dtype="int16", low=-3, high=3), _i(5, dtype="int16", low=-3, high=3))
    check_op(op, np.array([True, True, False, False]), np.array([True, False, True, False]))


@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor"])
def test_logical(op) -> None:
    check_op(op, _b(3, 4), _b(4))


def test_logical_not() -> None:
    check_op("logical_not", _b(2, 7))


FLOAT_UNARY = ["sqrt", "exp", "log", "erf", "reciprocal", "floor", "ceil", "round", "sin", "cos",
               "tanh", "sigmoid", "isnan", "isinf"]


@pytest.mark.parametrize("op", FLOAT_UNARY)
def test_float_unary(op) -> None:
    x = np.concatenate([SPECIAL, _f(20, scale=4.0), np.array([-100.0, 100.0, 1e-6], "float32")])
    rtol = 2e-5 if op == "tanh" else 1e-5  # TVM's tanh is within 2.3e-6 relative
    check_op(op, x, rtol=rtol)


@pytest.mark.parametrize("op", ["exp", "round", "sigmoid", "tanh", "isinf"])
def test_float_unary_half(op) -> None:
    x = np.concatenate([SPECIAL, _f(8)]).astype("float16")
    check_op(op, x, rtol=1e-3, atol=1e-3)


def test_float_unary_f64() -> None:
    for op in ("exp", "erf", "sigmoid", "round"):
        check_op(op, _f(3, 5, dtype="float64"), rtol=1e-12, atol=1e-12)


def test_round_half_to_even() -> None:
    check_op("round", np.arange(-4.5, 5.0, 0.5, dtype="float32"))


@pytest.mark.parametrize("op", ["neg", "abs", "sign"])
@pytest.mark.parametrize("dtype", ["float32", "int8", "uint8", "int64"])
def test_numeric_unary(op, dtype) -> None:
    if dtype.startswith("float"):
        x = SPECIAL
    else:
        info = np.iinfo(dtype)
        x = np.array([info.min, info.min + 1, 0, 1, 5, info.max]).astype(dtype)
        if dtype.startswith("int"):
            x = np.concatenate([x, np.array([-1, -5], dtype)])
    check_op(op, x)


def test_where() -> None:
    check_op("where", _b(3, 1, 4), _f(2, 1), _f(4))
    check_op("where", _b(2, 3), _i(2, 3, dtype="int8"), np.array(7, "int8"))
    check_op("where", _b(5), _b(5), _b(1))


CASTS = [
    ("float32", "int32"), ("float32", "uint8"), ("float32", "bool"), ("float32", "float16"),
    ("float64", "float16"), ("float16", "float32"), ("int32", "int8"), ("int64", "float32"),
    ("int8", "bool"), ("bool", "float32"), ("bool", "int64"), ("uint8", "int8"),
    ("float32", "bfloat16"),
]


@pytest.mark.parametrize("src, dst", CASTS, ids=lambda v: str(v))
def test_cast(src, dst) -> None:
    if src == "bool":
        x = _b(9)
    elif src.startswith("float"):
        x = np.array([0.0, -0.0, 0.7, -0.7, 1.5, 2.5, 100.9, -3.2, 1e-8], src)
        if dst == "uint8":
            x = np.abs(x)
        if dst == "bool":
            x = np.concatenate([x, np.array([np.nan, np.inf], src)])
        if dst.startswith("float") or dst == "bfloat16":
            extra = [65520.0, 1 / 3, np.nan, -np.inf] if src != "float16" else [1 / 3, np.nan]
            x = np.concatenate([x, np.array(extra, src)])
    else:
        info = np.iinfo(src)
        x = np.array([info.min, -1 if info.min < 0 else 0, 0, 2, 127, 300 % (info.max + 1),
                      info.max]).astype(src)
    tol = 1e-2 if dst == "bfloat16" else 1e-5
    check_op("cast", x, attrs={"dtype": dst}, rtol=tol, atol=tol)


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (None, 0.5), (-0.5, None), (None, None),
                                    (2.0, 1.0), (-np.inf, 1e10)], ids=str)
def test_clip_float(lo, hi) -> None:
    check_op("clip", SPECIAL, attrs={"min": lo, "max": hi})


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_clip_half_and_int() -> None:
    x = np.concatenate([SPECIAL, _f(6)]).astype("float16")
    check_op("clip", x, attrs={"min": -1e10, "max": 1.3}, rtol=1e-3, atol=1e-3)
    xi = np.array([-128, -5, -1, 0, 1, 2, 3, 100, 127], "int8")
    check_op("clip", xi, attrs={"min": -1.5, "max": 2.5})  # bounds round inward
    check_op("clip", xi, attrs={"min": -1000.0, "max": None})  # clamped to the dtype
    check_op("clip", np.array([0, 3, 200, 255], "uint8"), attrs={"min": 2.0, "max": 100.0})


def test_identity_alone_copies() -> None:
    check_op("identity", _f(3, 4))


def test_fused_elementwise_chain() -> None:
    text = """
graph @main(%x: f32[2,3,8], %y: f32[8], %c: bool[2,1,8]) -> f32[2,3,8] {
  %1 = add(%x, %y) : f32[2,3,8]
  %2 = mul(%1, %1) : f32[2,3,8]
  %3 = sigmoid(%2) : f32[2,3,8]
  %4 = where(%c, %3, %x) : f32[2,3,8]
  %5 = clip(%4) {min=-0.5, max=0.75} : f32[2,3,8]
  %6 = maximum(%5, %y) : f32[2,3,8]
  return %6
}"""
    check_group(text, {"x": _f(2, 3, 8), "y": _f(8), "c": _b(2, 1, 8)})


def test_fused_int_chain() -> None:
    text = """
graph @main(%x: i32[4,6], %y: i32[6]) -> i8[4,6] {
  %1 = div(%x, %y) : i32[4,6]
  %2 = mod(%x, %y) : i32[4,6]
  %3 = sub(%1, %2) : i32[4,6]
  %4 = abs(%3) : i32[4,6]
  %5 = cast(%4) {dtype="int8"} : i8[4,6]
  return %5
}"""
    check_group(text, {"x": _i(4, 6, low=-50, high=50), "y": np.array([-3, -1, 0, 1, 2, 5],
                                                                     "int32")})
