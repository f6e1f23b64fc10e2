"""Compute rules of the activation family against the interpreter: special values (NaN, +-inf,
large |x| where naive formulas overflow), attributes, float16 / float64, broadcast PReLU slopes,
softmax axes and a fused softmax chain."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.testing.codegen import check_group, check_op

rng = np.random.default_rng(1)

SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-6, -1e-6, 0.5, -0.5, 3.0, -3.0, 20.0,
                    -20.0, 100.0, -100.0, 2.9, -2.9, 6.0, -6.0], dtype=np.float32)


def _x(dtype: str = "float32") -> np.ndarray:
    return np.concatenate([SPECIAL, rng.standard_normal(13).astype(np.float32) * 4]).astype(dtype)


ACTIVATIONS = [
    ("nn.relu", {}), ("nn.leaky_relu", {"alpha": 0.1}), ("nn.elu", {"alpha": 0.7}),
    ("nn.celu", {"alpha": 2.0}), ("nn.selu", {}), ("nn.hard_sigmoid", {"alpha": 0.3, "beta": 0.4}),
    ("nn.hard_swish", {}), ("nn.softplus", {}), ("nn.softsign", {}), ("nn.mish", {}),
    ("nn.gelu", {"approximate": "none"}), ("nn.gelu", {"approximate": "tanh"}),
]


@pytest.mark.parametrize("op, attrs", ACTIVATIONS, ids=lambda v: str(v))
def test_activation_f32(op, attrs) -> None:
    check_op(op, _x().reshape(4, 8), attrs=attrs, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("op, attrs", [("nn.relu", {}), ("nn.elu", {}), ("nn.gelu", {}),
                                       ("nn.mish", {}), ("nn.hard_swish", {})],
                         ids=lambda v: str(v))
def test_activation_half_and_double(op, attrs) -> None:
    check_op(op, _x("float16"), attrs=attrs, rtol=1e-3, atol=1e-3)
    check_op(op, _x("float64"), attrs=attrs, rtol=1e-6, atol=1e-9)


def test_relu_int() -> None:
    check_op("nn.relu", np.array([-128, -1, 0, 1, 127], "int8"))


@pytest.mark.parametrize("xs, ss", [((2, 3, 4), (3, 1)), ((2, 3, 4), (4,)), ((2, 3), ()),
                                    ((1, 3, 2, 2), (3, 1, 1))], ids=str)
def test_prelu_broadcast(xs, ss) -> None:
    x = rng.standard_normal(xs).astype(np.float32)
    slope = rng.standard_normal(ss).astype(np.float32)
    check_op("nn.prelu", x, slope, consts=(1,))


def test_prelu_int_and_half() -> None:
    check_op("nn.prelu", np.array([[-4, 3], [5, -6]], "int32"), np.array([2, -1], "int32"))
    check_op("nn.prelu", _x("float16"), np.array([0.3], "float16"), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("op", ["nn.softmax", "nn.log_softmax"])
@pytest.mark.parametrize("shape, axis", [((3, 7), 1), ((2, 5, 3), 1), ((4, 2, 3), 0)], ids=str)
def test_softmax(op, shape, axis) -> None:
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    check_op(op, x, attrs={"axis": axis})


@pytest.mark.parametrize("op", ["nn.softmax", "nn.log_softmax"])
def test_softmax_special_rows(op) -> None:
    # rows with +inf, all -inf, NaN and huge values: the reference shifts by 0 when the row
    # max is not finite
    x = np.array([[1.0, np.inf, 2.0, 0.0], [-np.inf] * 4, [np.nan, 1.0, 2.0, 3.0],
                  [1e30, -1e30, 3e30, 0.0], [-np.inf, 0.0, 1.0, -np.inf]], np.float32)
    check_op(op, x, attrs={"axis": 1})


def test_softmax_half() -> None:
    x = (rng.standard_normal((3, 9)) * 3).astype(np.float16)
    check_op("nn.softmax", x, attrs={"axis": 1}, rtol=1e-3, atol=1e-3)
    check_op("nn.log_softmax", x, attrs={"axis": 0}, rtol=1e-3, atol=1e-3)


def test_fused_softmax_chain() -> None:
    # exp + sum + div spelled out, then a log-softmax reading the result
    text = """
graph @main(%x: f32[4,10]) -> f32[4,10] {
  %1 = exp(%x) : f32[4,10]
  %2 = reduce.sum(%1) {axes=(1,)} : f32[4,1]
  %3 = div(%1, %2) : f32[4,10]
  %4 = nn.log_softmax(%3) {axis=1} : f32[4,10]
  return %4
}"""
    check_group(text, {"x": rng.standard_normal((4, 10)).astype(np.float32)})


def test_fused_activation_chain() -> None:
    text = """
graph @main(%x: f32[2,3,4], %s: f32[3,1]) -> f32[2,3,4] {
  %1 = nn.prelu(%x, %s) : f32[2,3,4]
  %2 = nn.hard_swish(%1) : f32[2,3,4]
  %3 = nn.gelu(%2) {approximate="tanh"} : f32[2,3,4]
  %4 = nn.softmax(%3) {axis=2} : f32[2,3,4]
  return %4
}"""
    check_group(text, {"x": rng.standard_normal((2, 3, 4)).astype(np.float32) * 3,
                       "s": rng.standard_normal((3, 1)).astype(np.float32)})
