"""TE compute rules: activations (ReLU family, GELU, PReLU, softmax, log-softmax).

Every rule computes in the work dtype (float32 for half floats, as the references do) and
casts back. Constants (alpha, beta, ...) are rounded to the work dtype, as numpy rounds a
Python float multiplied into a float32 array.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tvm import te, tirx

from edgecc.codegen.compute.common import (
    bcast_read,
    cast,
    const,
    dt,
    expm1,
    is_float,
    nan_max,
    nan_min,
    reducer,
    via_work,
    work_dtype,
)
from edgecc.codegen.compute.registry import register_compute


def _activation(op: str, fn: Callable[..., Any]) -> None:
    """Register an elementwise activation computed by fn(x, **attrs) in the work dtype."""

    @register_compute(op)
    def rule(x: Any, *, out_type: Any, **attrs: Any) -> Any:
        return via_work(x, lambda v: fn(v, **attrs), op.split(".")[-1])


def _c(value: float, like: Any) -> Any:
    return const(value, dt(like))


def _relu(x: Any) -> Any:
    # numpy.maximum(x, 0): NaN stays NaN (topi.nn.relu's max(x, 0) gives 0 for NaN)
    return tirx.Select(x < _c(0, x), _c(0, x), x)


def _elu_neg(x: Any, alpha: float) -> Any:
    return _c(alpha, x) * expm1(nan_min(x, _c(0, x)))


def _elu(x: Any, alpha: float) -> Any:
    return tirx.Select(x > _c(0, x), x, _elu_neg(x, alpha))


def _celu(x: Any, alpha: float) -> Any:
    neg = _c(alpha, x) * expm1(nan_min(x, _c(0, x)) / _c(alpha, x))
    return tirx.Select(x > _c(0, x), x, neg)


def _selu(x: Any, alpha: float, gamma: float) -> Any:
    return _c(gamma, x) * _elu(x, alpha)


def _hard_sigmoid(x: Any, alpha: float, beta: float) -> Any:
    # numpy.clip(alpha * x + beta, 0, 1): NaN propagates
    return nan_min(nan_max(_c(alpha, x) * x + _c(beta, x), _c(0, x)), _c(1, x))


def _hard_swish(x: Any) -> Any:
    return x * _hard_sigmoid(x, 1 / 6, 0.5)


def _softplus(x: Any) -> Any:
    # numpy.logaddexp(0, x): stable for large |x|, NaN propagates
    return tirx.Select(x > _c(0, x), x + tirx.log1p(tirx.exp(_c(0, x) - x)),
                       tirx.log1p(tirx.exp(x)))


def _softsign(x: Any) -> Any:
    return x / (_c(1, x) + tirx.abs(x))


def _mish(x: Any) -> Any:
    return x * tirx.tanh(_softplus(x))


def _gelu(x: Any, approximate: str) -> Any:
    half, one = _c(0.5, x), _c(1, x)
    if approximate == "tanh":
        inner = _c(math.sqrt(2 / math.pi), x) * (x + _c(0.044715, x) * (x * x * x))
        return half * x * (one + tirx.tanh(inner))
    return half * x * (one + tirx.erf(x / _c(math.sqrt(2), x)))


_activation("nn.relu", lambda x: _relu(x))
_activation("nn.leaky_relu",
            lambda x, alpha: tirx.Select(x >= _c(0, x), x, _c(alpha, x) * x))
_activation("nn.elu", _elu)
_activation("nn.celu", _celu)
_activation("nn.selu", _selu)
_activation("nn.hard_sigmoid", _hard_sigmoid)
_activation("nn.hard_swish", _hard_swish)
_activation("nn.softplus", _softplus)
_activation("nn.softsign", _softsign)
_activation("nn.mish", _mish)
_activation("nn.gelu", _gelu)


@register_compute("nn.prelu")
def _prelu(x: Any, slope: Any, *, out_type: Any) -> Any:
    # slope broadcasts unidirectionally to x (numpy rules); topi.nn.prelu takes a 1-D slope
    # along one axis only
    dtype = dt(x)
    wd = work_dtype(dtype) if is_float(dtype) else dtype
    rank = len(x.shape)

    def fn(*i: Any) -> Any:
        v = cast(x(*i), wd)
        s = cast(bcast_read(slope, rank, i), wd)
        return cast(tirx.Select(v >= const(0, wd), v, v * s), dtype)

    return te.compute(x.shape, fn, name="prelu")


# --------------------------------------------------------------------------- softmax
def _with_axis(idx: tuple[Any, ...], axis: int, value: Any) -> tuple[Any, ...]:
    return idx[:axis] + (value,) + idx[axis + 1:]


def _shifted_max(x: Any, axis: int, wd: str) -> Any:
    """max of x along `axis` (kept as 1), replaced by 0 where it is not finite (the
    reference's shift: rows of -inf, +inf or NaN are not shifted)."""
    n = int(x.shape[axis])
    shape = tuple(1 if d == axis else x.shape[d] for d in range(len(x.shape)))
    k = te.reduce_axis((0, n), name="k")
    mx = te.compute(shape, lambda *i: reducer("max", wd)(cast(x(*_with_axis(i, axis, k)), wd),
                                                      axis=k), name="row_max")

    def fixed(*i: Any) -> Any:
        m = mx(*_with_axis(i, axis, 0))
        return tirx.Select(tirx.isfinite(m), m, const(0, wd))

    return fixed


def _exp_sum(x: Any, axis: int, wd: str, shift: Callable[..., Any]) -> Any:
    n = int(x.shape[axis])
    shape = tuple(1 if d == axis else x.shape[d] for d in range(len(x.shape)))
    k = te.reduce_axis((0, n), name="k")

    def body(*i: Any) -> Any:
        j = _with_axis(i, axis, k)
        return te.sum(tirx.exp(cast(x(*j), wd) - shift(*j)), axis=k)

    return te.compute(shape, body, name="exp_sum")


@register_compute("nn.softmax")
def _softmax(x: Any, *, out_type: Any, axis: int) -> Any:
    # NOTE: [softmax] handwritten rather than topi.nn.softmax: TOPI accumulates float16 in
    # float16 (the reference widens to float32) and shifts by a non-finite max (the reference
    # shifts by 0 there, e.g. a row holding +inf gives NaN only at the inf).
    dtype = dt(x)
    wd = work_dtype(dtype)
    axis = axis % len(x.shape)
    shift = _shifted_max(x, axis, wd)
    total = _exp_sum(x, axis, wd, shift)

    def out(*i: Any) -> Any:
        e = tirx.exp(cast(x(*i), wd) - shift(*i))
        return cast(e / total(*_with_axis(i, axis, 0)), dtype)

    return te.compute(x.shape, out, name="softmax")


@register_compute("nn.log_softmax")
def _log_softmax(x: Any, *, out_type: Any, axis: int) -> Any:
    dtype = dt(x)
    wd = work_dtype(dtype)
    axis = axis % len(x.shape)
    shift = _shifted_max(x, axis, wd)
    total = _exp_sum(x, axis, wd, shift)

    def out(*i: Any) -> Any:
        s = cast(x(*i), wd) - shift(*i)
        return cast(s - tirx.log(total(*_with_axis(i, axis, 0))), dtype)

    return te.compute(x.shape, out, name="log_softmax")
