"""Compute rules of the reduce family against the interpreter: axes (None, several, none),
keepdims, integer wrap-around and truncation, float16 accumulation, NaN propagation, and
argmax / argmin ties, NaN and select_last_index."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.testing.codegen import check_group, check_op

rng = np.random.default_rng(2)

REDUCE_OPS = ["reduce.sum", "reduce.mean", "reduce.max", "reduce.min", "reduce.prod",
              "reduce.l1", "reduce.l2", "reduce.sum_square", "reduce.log_sum_exp"]


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("axes, keepdims", [((1,), True), ((0, 2), False), (None, True)],
                         ids=str)
def test_reduce_f32(op, axes, keepdims) -> None:
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    if op == "reduce.prod":
        x = (x * 0.3 + 1).astype(np.float32)
    check_op(op, x, attrs={"axes": axes, "keepdims": keepdims}, rtol=2e-5)


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_no_axes(op) -> None:
    # axes=() reduces nothing: the non-reducing steps only (|x|, x^2, ...)
    x = np.array([[-2.0, 3.0], [np.inf, -np.inf]], np.float32)
    check_op(op, x, attrs={"axes": (), "keepdims": True})


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_int(op) -> None:
    # sums / products / squares wrap in int8; mean and l2 truncate toward zero
    x = rng.integers(-128, 128, size=(4, 6)).astype(np.int8)
    if op == "reduce.log_sum_exp":
        x = (x // 40).astype(np.int8)
    check_op(op, x, attrs={"axes": (1,), "keepdims": False})


def test_reduce_int_wide_and_unsigned() -> None:
    x = rng.integers(0, 60000, size=(3, 5)).astype(np.uint16)
    for op in ("reduce.sum", "reduce.prod", "reduce.mean", "reduce.max"):
        check_op(op, x, attrs={"axes": (0,), "keepdims": True})
    big = rng.integers(-2**40, 2**40, size=(2, 7)).astype(np.int64)
    check_op("reduce.sum", big, attrs={"axes": None, "keepdims": False})
    check_op("reduce.min", big, attrs={"axes": (1,), "keepdims": False})


@pytest.mark.parametrize("op", ["reduce.sum", "reduce.mean", "reduce.l2", "reduce.log_sum_exp"])
def test_reduce_half_accumulates_in_f32(op) -> None:
    # 2048 values of 0.1: float16 accumulation would stall at 256
    x = np.full((2, 2048), 0.1, np.float16)
    x[1] = rng.standard_normal(2048).astype(np.float16)
    check_op(op, x, attrs={"axes": (1,), "keepdims": True}, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("op", ["reduce.max", "reduce.min", "reduce.log_sum_exp", "reduce.sum"])
def test_reduce_nan_inf(op) -> None:
    x = np.array([[1.0, np.nan, 3.0], [2.0, 1.0, np.nan], [-np.inf, -np.inf, -np.inf],
                  [np.inf, 1.0, 2.0], [-1.0, -5.0, 0.5]], np.float32)
    check_op(op, x, attrs={"axes": (1,), "keepdims": False})


def test_reduce_bool_extremes() -> None:
    x = np.array([[True, False], [False, False], [True, True]])
    check_op("reduce.max", x, attrs={"axes": (1,), "keepdims": False})
    check_op("reduce.min", x, attrs={"axes": None, "keepdims": True})


ARG_X = np.array([[1.0, 3.0, 3.0, np.nan, 0.0, np.nan],
                  [2.0, -1.0, 2.0, -1.0, 0.0, 2.0],
                  [-np.inf] * 6,
                  [np.inf, 1.0, np.inf, -np.inf, 0.0, 1.0]], np.float32)


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("last", [False, True])
def test_arg_ties_nan(op, last) -> None:
    check_op(op, ARG_X, attrs={"axis": 1, "keepdims": False, "select_last_index": last})


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize("dtype, axis, keepdims", [("int8", 0, True), ("float16", 2, True),
                                                   ("uint8", 1, False), ("bool", 1, True)],
                         ids=str)
def test_arg_dtypes_axes(op, dtype, axis, keepdims) -> None:
    if dtype == "bool":
        x = rng.random((3, 4, 2)) > 0.5
    elif dtype.startswith("float"):
        x = rng.standard_normal((3, 4, 5)).round(1).astype(dtype)
    else:
        x = rng.integers(0, 4, size=(3, 4, 5)).astype(dtype)  # many ties
    check_op(op, x, attrs={"axis": axis, "keepdims": keepdims, "select_last_index": True})
    check_op(op, x, attrs={"axis": axis, "keepdims": keepdims, "select_last_index": False})


def test_fused_reduce_chain() -> None:
    # a hand-written mean / variance normalization: reductions feeding broadcasts
    text = """
graph @main(%x: f32[2,3,8]) -> f32[2,3,1] {
  %1 = reduce.mean(%x) {axes=(2,), keepdims=True} : f32[2,3,1]
  %2 = sub(%x, %1) : f32[2,3,8]
  %3 = reduce.sum_square(%2) {axes=(2,), keepdims=True} : f32[2,3,1]
  %4 = sqrt(%3) : f32[2,3,1]
  %5 = reduce.max(%x) {axes=(2,), keepdims=True} : f32[2,3,1]
  %6 = div(%5, %4) : f32[2,3,1]
  return %6
}"""
    check_group(text, {"x": rng.standard_normal((2, 3, 8)).astype(np.float32)})
