"""Helpers shared by the compute families: dtypes, constants, broadcasting, NaN-aware min/max.

Not a family: it registers nothing. The conventions the rules follow:

* half floats (float16, bfloat16) are computed in float32 and cast back, as the numpy
  references do (`work_dtype`);
* a constant is rounded to its dtype the way numpy rounds it (`const`);
* float max/min follow numpy: `maximum`/`max` propagate NaN (TVM's `Max` is
  `select(a > b, a, b)`, which drops a NaN in its second operand), `fmax` ignores it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from tvm import te, tirx

from edgecc.errors import UnsupportedError
from edgecc.ops.elementwise import numpy_dtype

HALF = ("float16", "bfloat16")


# --------------------------------------------------------------------------- dtypes
def dt(t: Any) -> str:
    """The dtype name of a TE tensor, tensor element or expression (TVM 0.27: a tensor has
    `.dtype`, a PrimExpr `.ty`; both print as the dtype name)."""
    ty = getattr(t, "dtype", None)
    return str(ty if ty is not None else t.ty)


def is_float(dtype: str) -> bool:
    return dtype.startswith("float") or dtype == "bfloat16"


def is_int(dtype: str) -> bool:
    """Signed or unsigned integer (not bool)."""
    return dtype.startswith("int") or dtype.startswith("uint")


def is_signed(dtype: str) -> bool:
    return dtype.startswith("int")


def bits(dtype: str) -> int:
    return 16 if dtype == "bfloat16" else (1 if dtype == "bool" else np.dtype(dtype).itemsize * 8)


def work_dtype(dtype: str) -> str:
    """The dtype a float op computes in: float32 for half floats, the dtype itself otherwise."""
    return "float32" if dtype in HALF else dtype


def acc_dtype(dtype: str) -> str:
    """The accumulator of a multiply-accumulate over `dtype` (conv, dense, matmul).

    Half floats accumulate in float32 (the references widen them). Narrow integers accumulate
    in int32: the references wrap in the op's dtype, and wrapping at 32 bits then truncating
    gives the same bits, since 2^8 and 2^16 divide 2^32.
    """
    if dtype in HALF:
        return "float32"
    if is_int(dtype) and bits(dtype) < 32:
        return "int32"
    if dtype == "bool":
        raise UnsupportedError("multiply-accumulate over bool tensors is not implemented")
    return dtype


def wrap_dtype(dtype: str) -> str:
    """An unsigned accumulator whose wrap-around is defined (TVM marks signed arithmetic
    `nsw`); sums and products mod 2^32 or 2^64 truncate to the same narrow result."""
    return "uint64" if bits(dtype) == 64 else "uint32"


def cast(x: Any, dtype: str) -> Any:
    """`x.astype(dtype)`, a no-op when it already has it."""
    return x if dt(x) == dtype else x.astype(dtype)


def const(value: Any, dtype: str) -> Any:
    """A TIR constant of `value` rounded to `dtype` as numpy rounds it (1e10 in float16 is
    inf; TVM rejects an out-of-range float16 literal)."""
    if dtype == "bool":
        return tirx.const(bool(value), "bool")
    if is_float(dtype):
        if dtype == "float64":
            return tirx.const(float(value), dtype)
        with np.errstate(over="ignore"):
            rounded = float(np.asarray(value, dtype=np.float64).astype(numpy_dtype(dtype)))
        return tirx.const(rounded, dtype)
    return tirx.const(int(value), dtype)


def min_value(dtype: str) -> Any:
    if is_float(dtype):
        return const(-np.inf, dtype)
    if dtype == "bool":
        return const(False, dtype)
    return const(np.iinfo(dtype).min, dtype)


def max_value(dtype: str) -> Any:
    if is_float(dtype):
        return const(np.inf, dtype)
    if dtype == "bool":
        return const(True, dtype)
    return const(np.iinfo(dtype).max, dtype)


# --------------------------------------------------------------------------- shapes
def shape_of(t: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def bcast_index(t: Any, out_rank: int, idx: Sequence[Any]) -> tuple[Any, ...]:
    """The index of `t` read at output index `idx` under numpy broadcasting."""
    shape = shape_of(t)
    lead = out_rank - len(shape)
    return tuple(0 if d == 1 else idx[lead + k] for k, d in enumerate(shape))


def bcast_read(t: Any, out_rank: int, idx: Sequence[Any]) -> Any:
    return t(*bcast_index(t, out_rank, idx))


def broadcast_map(inputs: Sequence[Any], out_shape: Sequence[int],
                  fn: Callable[..., Any], name: str) -> Any:
    """te.compute over the numpy broadcast of `inputs`: fn(*elements) per output element."""
    rank = len(out_shape)
    return te.compute(tuple(out_shape),
                      lambda *i: fn(*[bcast_read(t, rank, i) for t in inputs]), name=name)


def unary_map(x: Any, fn: Callable[[Any], Any], name: str) -> Any:
    return te.compute(x.shape, lambda *i: fn(x(*i)), name=name)


def via_work(x: Any, fn: Callable[[Any], Any], name: str) -> Any:
    """fn applied elementwise in x's work dtype, the result cast back to x's dtype."""
    dtype = dt(x)
    wd = work_dtype(dtype)
    return te.compute(x.shape, lambda *i: cast(fn(cast(x(*i), wd)), dtype), name=name)


# --------------------------------------------------------------------------- NaN-aware min/max
def nan_max(a: Any, b: Any) -> Any:
    """numpy.maximum: NaN if either is NaN (floats); max otherwise."""
    if not is_float(dt(a)):
        return tirx.max(a, b)
    return tirx.Select(tirx.Or(a > b, tirx.isnan(a)), a, b)


def nan_min(a: Any, b: Any) -> Any:
    """numpy.minimum: NaN if either is NaN (floats); min otherwise."""
    if not is_float(dt(a)):
        return tirx.min(a, b)
    return tirx.Select(tirx.Or(a < b, tirx.isnan(a)), a, b)


def fmax(a: Any, b: Any) -> Any:
    """numpy.fmax: the number when one operand is NaN (NaN only when both are)."""
    if not is_float(dt(a)):
        return tirx.max(a, b)
    return tirx.Select(tirx.Or(a > b, tirx.isnan(b)), a, b)


def _reducer(name: str, combine: Callable[[Any, Any], Any],
             identity: Callable[[str], Any]) -> Any:
    return te.comm_reducer(lambda a, b: combine(a, b), lambda t: identity(str(t)), name=name)


_REDUCERS: dict[str, Any] = {}


def reducer(kind: str, dtype: str) -> Any:
    """A TE reducer: "max"/"min" propagate NaN (numpy's max/min), "fmax" ignores it."""
    if not is_float(dtype):
        if kind in ("max", "fmax"):
            return te.max
        return te.min
    if kind not in _REDUCERS:
        fns = {
            "max": (nan_max, min_value),
            # NaN is fmax's identity (fmax(NaN, v) = v): a window of NaNs gives NaN
            "fmax": (fmax, lambda t: const(np.nan, t)),
            "min": (nan_min, max_value),
        }
        combine, identity = fns[kind]
        _REDUCERS[kind] = _reducer(f"nan_{kind}", combine, identity)
    return _REDUCERS[kind]


# --------------------------------------------------------------------------- misc math
def expm1(x: Any) -> Any:
    """e^x - 1, accurate near 0 (Kahan's trick: (u - 1) * x / log(u) with u = e^x)."""
    u = tirx.exp(x)
    um1 = u - const(1, dt(x))
    exact = tirx.Or(tirx.Or(um1 == const(-1, dt(x)), tirx.isinf(u)), tirx.isnan(u))
    return tirx.Select(u == const(1, dt(x)), x,
                       tirx.Select(exact, um1, um1 * x / tirx.log(u)))
