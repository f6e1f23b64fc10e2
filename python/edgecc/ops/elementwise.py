"""Elementwise ops: broadcast binary arithmetic, comparisons, unary math, where, cast, clip."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType, canonical_dtype
from edgecc.ops.registry import REQUIRED, OpPattern, register_op, register_ref

FLOAT_DTYPES = ("float16", "float32", "float64", "bfloat16")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


# NOTE: [helpers first] the other families import the helpers below. Registering a reference
# loads every family (registry._ensure_loaded), possibly while this module is half imported, so
# everything they import must be defined above the first registration.


# ---------------------------------------------------------------------- shared helpers
def broadcast_shape(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The numpy broadcast of `shapes`; raises `TypeInferenceError` when they do not broadcast."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        shown = " and ".join(str(list(s)) for s in shapes)
        raise TypeInferenceError(f"shapes {shown} do not broadcast") from None


def same_layout(out_shape: tuple[int, ...], *types: TensorType) -> str | None:
    """The layout an elementwise op keeps: its inputs' common layout when no shape changes."""
    if any(t.shape != out_shape for t in types):
        return None
    layouts = {t.layout for t in types if t.layout is not None}
    return layouts.pop() if len(layouts) == 1 else None


def require_same_dtype(op: str, *types: TensorType) -> str:
    """The common dtype of `types`; raises when they differ (ONNX never mixes them)."""
    dtypes = {t.dtype for t in types}
    if len(dtypes) != 1:
        shown = ", ".join(str(t) for t in types)
        raise TypeInferenceError(f"{op} needs inputs of one dtype, got {shown}")
    return types[0].dtype


def _require_dtype(op: str, t: TensorType, allowed: Sequence[str], what: str) -> None:
    if t.dtype not in allowed:
        raise TypeInferenceError(f"{op} needs {what} input(s), got {t}")


def _as_float(x: np.ndarray) -> np.ndarray:
    """Half-precision inputs are computed in float32 (the result is cast back by the caller)."""
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
        return x
    if x.dtype.kind in "fV" or x.dtype.name == "bfloat16":
        return x.astype(np.float32)
    return x


_ERF = np.frompyfunc(math.erf, 1, 1)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, exact to double precision (`math.erf` per element)."""
    return np.asarray(_ERF(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def numpy_dtype(dtype: str) -> np.dtype:
    """The numpy dtype of a canonical dtype name (bfloat16 comes from ml_dtypes)."""
    if dtype == "bfloat16":
        import ml_dtypes  # numpy has no bfloat16; ml_dtypes comes with onnx

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)


# ---------------------------------------------------------------------- binary ops
def _binary_rule(op: str, *, out_dtype: str | None = None,
                 allowed: Sequence[str] | None = None) -> Callable[..., TensorType]:
    def rule(a: TensorType, b: TensorType) -> TensorType:
        dtype = require_same_dtype(op, a, b)
        if allowed is not None:
            _require_dtype(op, a, allowed, "/".join(allowed))
        shape = broadcast_shape(a.shape, b.shape)
        return TensorType(shape, out_dtype or dtype, same_layout(shape, a, b))

    rule.__doc__ = f"`{op}(a, b)`: elementwise, numpy broadcasting; inputs share one dtype."
    return rule


def _int_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer division truncating toward zero (C semantics); x / 0 gives 0."""
    safe = np.where(b == 0, np.ones_like(b), b)
    q = np.floor_divide(a, safe)
    r = a - q * safe
    q = q + ((r != 0) & ((a < 0) != (safe < 0))).astype(q.dtype)
    return np.where(b == 0, np.zeros_like(q), q)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu":
        return _int_divide(a, b)
    return np.divide(a, b)


def _mod(a: np.ndarray, b: np.ndarray, *, fmod: int = 0) -> np.ndarray:
    if a.dtype.kind in "iu":
        safe = np.where(b == 0, np.ones_like(b), b)  # x % 0 is undefined; give 0, not a crash
        out = np.fmod(a, safe) if fmod else np.mod(a, safe)
        return np.where(b == 0, np.zeros_like(out), out)
    return np.fmod(a, b) if fmod else np.mod(a, b)


_BINARY: dict[str, Callable[..., np.ndarray]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": _divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
}

_COMPARE: dict[str, Callable[..., np.ndarray]] = {
    "equal": np.equal,
    "greater": np.greater,
    "less": np.less,
    "greater_equal": np.greater_equal,
    "less_equal": np.less_equal,
}

_LOGICAL: dict[str, Callable[..., np.ndarray]] = {
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
}


def _binary_ref(fn: Callable[..., np.ndarray], out_dtype: str | None) -> Callable[..., Any]:
    def ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # inf / nan results are the answer, not an error
            out = fn(a, b)
        return np.asarray(out).astype(out_dtype or a.dtype, copy=False)

    return ref


for _name, _fn in _BINARY.items():
    register_op(_name, inputs=2, pattern=OpPattern.BROADCAST)(_binary_rule(_name))
    register_ref(_name)(_binary_ref(_fn, None))

for _name, _fn in _COMPARE.items():
    register_op(_name, inputs=2, pattern=OpPattern.BROADCAST)(_binary_rule(_name, out_dtype="bool"))
    register_ref(_name)(_binary_ref(_fn, "bool"))

for _name, _fn in _LOGICAL.items():
    register_op(_name, inputs=2, pattern=OpPattern.BROADCAST)(
        _binary_rule(_name, out_dtype="bool", allowed=("bool",)))
    register_ref(_name)(_binary_ref(_fn, "bool"))


@register_op("mod", attrs={"fmod": 0}, inputs=2, pattern=OpPattern.BROADCAST)
def _mod_type(a: TensorType, b: TensorType, *, fmod: int) -> TensorType:
    """`mod(a, b)`: remainder with the divisor's sign (`fmod=0`) or the dividend's (`fmod=1`)."""
    if fmod not in (0, 1):
        raise TypeInferenceError(f"mod: fmod must be 0 or 1, got {fmod}")
    return _binary_rule("mod")(a, b)


@register_ref("mod")
def _mod_ref(a: np.ndarray, b: np.ndarray, *, fmod: int = 0) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(_mod(a, b, fmod=fmod)).astype(a.dtype, copy=False)


@register_op("pow", inputs=2, pattern=OpPattern.BROADCAST)
def _pow_type(a: TensorType, b: TensorType) -> TensorType:
    """`pow(a, b)`: a ** b, broadcast; the exponent may have another dtype (ONNX T1), the
    result has the base's."""
    shape = broadcast_shape(a.shape, b.shape)
    return TensorType(shape, a.dtype, same_layout(shape, a, b))


@register_ref("pow")
def _pow_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        if a.dtype.kind in "iu" and b.dtype.kind in "iu":
            if np.any(b < 0):  # numpy refuses negative integer powers of integers
                out = np.trunc(np.power(a.astype(np.float64), b.astype(np.float64)))
            else:
                out = np.power(a, b.astype(a.dtype))
        elif a.dtype.kind in "iu":
            out = np.power(a.astype(np.float64), b.astype(np.float64))
        else:
            out = np.power(_as_float(a), b.astype(_as_float(a).dtype))
    return np.asarray(out).astype(a.dtype)


# ---------------------------------------------------------------------- unary ops
def _unary_rule(op: str, *, out_dtype: str | None = None,
                allowed: Sequence[str] | None = None, what: str = "") -> Callable[..., TensorType]:
    def rule(x: TensorType) -> TensorType:
        if allowed is not None:
            _require_dtype(op, x, allowed, what)
        return TensorType(x.shape, out_dtype or x.dtype, x.layout)

    rule.__doc__ = f"`{op}(x)`: elementwise, same shape" + (
        f"; output {out_dtype}." if out_dtype else ".")
    return rule


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_FLOAT_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "erf": erf,
    "reciprocal": np.reciprocal,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,  # half to even, as ONNX
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
}

_ANY_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "neg": np.negative,
    "abs": np.abs,
    "sign": np.sign,
}


def _unary_ref(fn: Callable[[np.ndarray], np.ndarray], out_dtype: str | None,
               as_float: bool) -> Callable[..., Any]:
    def ref(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = fn(_as_float(x) if as_float else x)
        return np.asarray(out).astype(out_dtype or x.dtype, copy=False)

    return ref


for _name, _fn in _FLOAT_UNARY.items():
    register_op(_name, pattern=OpPattern.ELEMWISE)(
        _unary_rule(_name, allowed=FLOAT_DTYPES, what="a floating-point"))
    register_ref(_name)(_unary_ref(_fn, None, True))

for _name, _fn in _ANY_UNARY.items():
    register_op(_name, pattern=OpPattern.ELEMWISE)(
        _unary_rule(_name, allowed=FLOAT_DTYPES + INT_DTYPES, what="a numeric"))
    register_ref(_name)(_unary_ref(_fn, None, False))

register_op("logical_not", pattern=OpPattern.ELEMWISE)(
    _unary_rule("logical_not", allowed=("bool",), what="a bool"))
register_ref("logical_not")(_unary_ref(np.logical_not, "bool", False))

for _name, _fn in (("isnan", np.isnan), ("isinf", np.isinf)):
    register_op(_name, pattern=OpPattern.ELEMWISE)(
        _unary_rule(_name, out_dtype="bool", allowed=FLOAT_DTYPES, what="a floating-point"))
    register_ref(_name)(_unary_ref(_fn, "bool", True))


# ---------------------------------------------------------------------- where, cast, clip
@register_op("where", inputs=3, pattern=OpPattern.BROADCAST)
def _where_type(cond: TensorType, x: TensorType, y: TensorType) -> TensorType:
    """`where(cond, x, y)`: x where cond else y; the three broadcast together."""
    _require_dtype("where", cond, ("bool",), "a bool condition")
    dtype = require_same_dtype("where", x, y)
    shape = broadcast_shape(cond.shape, x.shape, y.shape)
    return TensorType(shape, dtype, same_layout(shape, x, y))


@register_ref("where")
def _where_ref(cond: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(cond, x, y).astype(x.dtype, copy=False)


@register_op("cast", attrs={"dtype": REQUIRED}, pattern=OpPattern.ELEMWISE)
def _cast_type(x: TensorType, *, dtype: str) -> TensorType:
    """`cast(x)`: converts to `dtype` (float to int truncates; to bool is `!= 0`)."""
    return TensorType(x.shape, canonical_dtype(dtype), x.layout)


@register_ref("cast")
def _cast_ref(x: np.ndarray, *, dtype: str) -> np.ndarray:
    # NOTE: float to int truncates; out-of-range values and NaN are undefined in ONNX and
    # numpy's result stands. Int to narrower int wraps (two's complement), as ONNX says.
    with np.errstate(all="ignore"):
        return x.astype(numpy_dtype(dtype))


@register_op("clip", attrs={"min": None, "max": None}, pattern=OpPattern.ELEMWISE)
def _clip_type(x: TensorType, *, min: float | None, max: float | None) -> TensorType:  # noqa: A002
    """`clip(x)`: clamps to [min, max]; a missing bound is no bound; min > max gives max."""
    _require_dtype("clip", x, FLOAT_DTYPES + INT_DTYPES, "a numeric")
    for name, v in (("min", min), ("max", max)):
        if v is not None and not isinstance(v, (int, float)):
            raise TypeInferenceError(f"clip: {name} must be a number or None, got {v!r}")
    return TensorType(x.shape, x.dtype, x.layout)


def _int_bound(dtype: np.dtype, value: float, is_min: bool) -> int:
    """An integer clip bound, rounded inward and clamped to the range of `dtype`."""
    info = np.iinfo(dtype)
    v = math.ceil(value) if is_min else math.floor(value)
    return int(min(max(v, info.min), info.max))


@register_ref("clip")
def _clip_ref(x: np.ndarray, *, min: float | None = None,  # noqa: A002
              max: float | None = None) -> np.ndarray:
    lo, hi = min, max
    if x.dtype.kind in "iu":
        lo = None if lo is None else _int_bound(x.dtype, lo, True)
        hi = None if hi is None else _int_bound(x.dtype, hi, False)
    out = x
    if lo is not None:  # max(x, lo) then min(., hi): min > max gives max everywhere
        out = np.maximum(out, np.asarray(lo).astype(x.dtype))
    if hi is not None:
        out = np.minimum(out, np.asarray(hi).astype(x.dtype))
    return np.asarray(out).astype(x.dtype, copy=False)
