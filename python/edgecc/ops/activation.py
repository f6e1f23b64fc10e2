"""Activation ops: ReLU and its relatives, GELU, softmax and log-softmax."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType
from edgecc.ops.elementwise import FLOAT_DTYPES, INT_DTYPES, erf
from edgecc.ops.registry import OpPattern, register_op, register_ref

SELU_ALPHA = 1.67326319217681884765625
SELU_GAMMA = 1.05070102214813232421875


def _compute(x: np.ndarray) -> np.ndarray:
    """Floats below 32 bits are computed in float32 (the reference casts back at the end)."""
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
        return x
    if x.dtype.kind in "fV":
        return x.astype(np.float32)
    return x


def _same_type(op: str, x: TensorType, allow_int: bool = False) -> TensorType:
    allowed = FLOAT_DTYPES + (INT_DTYPES if allow_int else ())
    if x.dtype not in allowed:
        raise TypeInferenceError(f"{op} needs a {'numeric' if allow_int else 'floating-point'} "
                                 f"input, got {x}")
    return TensorType(x.shape, x.dtype, x.layout)


def _activation(name: str, attrs: dict[str, Any], doc: str, fn: Callable[..., np.ndarray],
                allow_int: bool = False) -> None:
    """Register an elementwise activation `name` computed by `fn(x, **attrs)`."""

    def rule(x: TensorType, **kwargs: Any) -> TensorType:
        return _same_type(name, x, allow_int)

    rule.__doc__ = doc
    register_op(name, attrs=attrs, pattern=OpPattern.ELEMWISE)(rule)

    def ref(x: np.ndarray, **kwargs: Any) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            out = fn(_compute(x), **kwargs)
        return np.asarray(out).astype(x.dtype, copy=False)

    register_ref(name)(ref)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.zeros((), x.dtype), x)  # log(1 + e^x), stable for large |x|


def _hard_sigmoid(x: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    return np.clip(alpha * x + beta, 0, 1).astype(x.dtype, copy=False)


def _elu(x: np.ndarray, alpha: float) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _gelu(x: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
        return 0.5 * x * (1 + np.tanh(inner))
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


_activation("nn.relu", {}, "`nn.relu(x)`: max(x, 0).",
            lambda x: np.maximum(x, np.zeros((), x.dtype)), allow_int=True)
_activation("nn.leaky_relu", {"alpha": 0.01}, "`nn.leaky_relu(x)`: x if x >= 0 else alpha * x.",
            lambda x, alpha: np.where(x >= 0, x, alpha * x))
_activation("nn.elu", {"alpha": 1.0}, "`nn.elu(x)`: x if x > 0 else alpha * (e^x - 1).", _elu)
_activation("nn.celu", {"alpha": 1.0},
            "`nn.celu(x)`: max(0, x) + min(0, alpha * (e^(x / alpha) - 1)).",
            lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha)))
_activation("nn.selu", {"alpha": SELU_ALPHA, "gamma": SELU_GAMMA},
            "`nn.selu(x)`: gamma * (x if x > 0 else alpha * (e^x - 1)).",
            lambda x, alpha, gamma: gamma * _elu(x, alpha))
_activation("nn.hard_sigmoid", {"alpha": 0.2, "beta": 0.5},
            "`nn.hard_sigmoid(x)`: clamp(alpha * x + beta, 0, 1).", _hard_sigmoid)
_activation("nn.hard_swish", {}, "`nn.hard_swish(x)`: x * clamp(x / 6 + 1/2, 0, 1).",
            lambda x: x * _hard_sigmoid(x, 1 / 6, 0.5))
_activation("nn.softplus", {}, "`nn.softplus(x)`: log(1 + e^x).", _softplus)
_activation("nn.softsign", {}, "`nn.softsign(x)`: x / (1 + |x|).", lambda x: x / (1 + np.abs(x)))
_activation("nn.mish", {}, "`nn.mish(x)`: x * tanh(softplus(x)).",
            lambda x: x * np.tanh(_softplus(x)))


@register_op("nn.gelu", attrs={"approximate": "none"}, pattern=OpPattern.ELEMWISE)
def _gelu_type(x: TensorType, *, approximate: str) -> TensorType:
    """`nn.gelu(x)`: x * Phi(x) with the exact erf (`"none"`) or the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise TypeInferenceError(f"nn.gelu: approximate must be 'none' or 'tanh', "
                                 f"got {approximate!r}")
    return _same_type("nn.gelu", x)


@register_ref("nn.gelu")
def _gelu_ref(x: np.ndarray, *, approximate: str = "none") -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(_gelu(_compute(x), approximate)).astype(x.dtype)


# ---------------------------------------------------------------------- prelu
@register_op("nn.prelu", inputs=2, pattern=OpPattern.BROADCAST)
def _prelu_type(x: TensorType, slope: TensorType) -> TensorType:
    """`nn.prelu(x, slope)`: x if x >= 0 else slope * x; slope broadcasts to x's shape."""
    _same_type("nn.prelu", x, allow_int=True)
    if slope.dtype != x.dtype:
        raise TypeInferenceError(f"nn.prelu: slope {slope} must have x's dtype {x.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, slope.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise TypeInferenceError(f"nn.prelu: slope {slope} does not broadcast to x {x}")
    return TensorType(x.shape, x.dtype, x.layout)


@register_ref("nn.prelu")
def _prelu_ref(x: np.ndarray, slope: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, x, x * slope).astype(x.dtype, copy=False)


# ---------------------------------------------------------------------- softmax
def _softmax_rule(op: str) -> Callable[..., TensorType]:
    def rule(x: TensorType, *, axis: int) -> TensorType:
        if not -x.rank <= axis < x.rank:
            raise TypeInferenceError(f"{op}: axis {axis} out of range for {x}")
        return _same_type(op, x)

    rule.__doc__ = f"`{op}(x)`: along the single axis `axis` (ONNX opset-13 semantics)."
    return rule


register_op("nn.softmax", attrs={"axis": -1}, pattern=OpPattern.REDUCTION)(
    _softmax_rule("nn.softmax"))
register_op("nn.log_softmax", attrs={"axis": -1}, pattern=OpPattern.REDUCTION)(
    _softmax_rule("nn.log_softmax"))


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x minus its max along `axis` (rows that are all -inf are left as they are)."""
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isfinite(m), m, np.zeros((), x.dtype))


@register_ref("nn.softmax")
def _softmax_ref(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.exp(_shifted(_compute(x), axis))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


@register_ref("nn.log_softmax")
def _log_softmax_ref(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        s = _shifted(_compute(x), axis)
        return (s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))).astype(x.dtype)
