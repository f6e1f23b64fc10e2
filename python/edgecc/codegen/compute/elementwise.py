"""TE compute rules: elementwise and broadcasting math, where, cast, clip, identity."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from tvm import te, tirx, topi

from edgecc.codegen.compute.common import (
    bcast_index,
    broadcast_map,
    cast,
    const,
    dt,
    is_float,
    is_int,
    is_signed,
    nan_max,
    nan_min,
    unary_map,
    via_work,
    work_dtype,
)
from edgecc.codegen.compute.registry import register_compute
from edgecc.errors import UnsupportedError


def _shape(out_type: Any) -> tuple[int, ...]:
    return tuple(out_type.shape)


def _no_bool(op: str, x: Any) -> None:
    if dt(x) == "bool":
        raise UnsupportedError(f"{op} on bool tensors is not implemented")


# --------------------------------------------------------------------------- identity
@register_compute("identity")
def _identity(x: Any, *, out_type: Any) -> Any:
    return x  # a kernel that is only this copies its param (lower.kernel_to_te)


# --------------------------------------------------------------------------- arithmetic
# NOTE: [bool arithmetic] numpy's add/mul/maximum/minimum on bools are or/and/or/and (TVM
# cannot add i1 values); divide is a / b in float64 cast back to bool, i.e. a or not b.
_BOOL_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": tirx.Or,
    "mul": tirx.And,
    "maximum": tirx.Or,
    "minimum": tirx.And,
    "div": lambda a, b: tirx.Or(a, tirx.Not(b)),
}


def _bool_binary(op: str, a: Any, b: Any, out_type: Any) -> Any:
    if op not in _BOOL_BINARY:
        raise UnsupportedError(f"{op} on bool tensors is not implemented")
    return broadcast_map([a, b], _shape(out_type), _BOOL_BINARY[op], f"bool_{op}")


def _numeric_or_bool(op: str, numeric: Callable[[Any, Any, Any], Any]) -> None:
    """Register `op`: `numeric(a, b, out_type)` for numbers, the _BOOL_BINARY form for bools."""

    @register_compute(op)
    def rule(a: Any, b: Any, *, out_type: Any) -> Any:
        if dt(a) == "bool":
            return _bool_binary(op, a, b, out_type)
        return numeric(a, b, out_type)


_numeric_or_bool("add", lambda a, b, _t: topi.add(a, b))
_numeric_or_bool("sub", lambda a, b, _t: topi.subtract(a, b))
_numeric_or_bool("mul", lambda a, b, _t: topi.multiply(a, b))
_numeric_or_bool("maximum", lambda a, b, t: broadcast_map([a, b], _shape(t), nan_max, "maximum"))
_numeric_or_bool("minimum", lambda a, b, t: broadcast_map([a, b], _shape(t), nan_min, "minimum"))


def _safe_divisor(b: Any) -> tuple[Any, Any]:
    """(b with 0 and -1 replaced by 1, the condition that b is 0 or -1).

    x / 0 is defined as 0 by the reference, and INT_MIN / -1 traps on x86 (sdiv overflow).
    """
    dtype = dt(b)
    special = b == const(0, dtype)
    if is_signed(dtype):
        special = tirx.Or(special, b == const(-1, dtype))
    return tirx.Select(special, const(1, dtype), b), special


@register_compute("div")
def _div(a: Any, b: Any, *, out_type: Any) -> Any:
    dtype = dt(a)
    if dtype == "bool":
        return _bool_binary("div", a, b, out_type)
    if is_float(dtype):
        return topi.divide(a, b)

    # integers truncate toward zero; x / 0 = 0; x / -1 = -x (wrapping)
    def fn(x: Any, y: Any) -> Any:
        safe, special = _safe_divisor(y)
        q = tirx.truncdiv(x, safe)
        if is_signed(dtype):
            q = tirx.Select(y == const(-1, dtype), const(0, dtype) - x, q)
        return tirx.Select(y == const(0, dtype), const(0, dtype), q)

    return broadcast_map([a, b], _shape(out_type), fn, "int_div")


def _fmod_call(x: Any, y: Any) -> Any:
    """C fmod (exact); TVM's LLVM backend has no lowering for tirx.fmod, so call libm."""
    name = "fmod" if dt(x) == "float64" else "fmodf"
    return tirx.call_pure_extern(dt(x), name, x, y)


@register_compute("mod")
def _mod(a: Any, b: Any, *, out_type: Any, fmod: int) -> Any:
    dtype = dt(a)
    _no_bool("mod", a)
    if is_float(dtype):
        wd = work_dtype(dtype)

        def ffn(x: Any, y: Any) -> Any:
            x, y = cast(x, wd), cast(y, wd)
            r = _fmod_call(x, y)
            if not fmod:  # numpy.mod: the remainder takes the divisor's sign
                zero = const(0, wd)
                flip = tirx.Or(tirx.And(r < zero, y > zero), tirx.And(r > zero, y < zero))
                r = tirx.Select(flip, r + y, r)
            return cast(r, dtype)

        return broadcast_map([a, b], _shape(out_type), ffn, "fmod" if fmod else "mod")

    def ifn(x: Any, y: Any) -> Any:
        safe, special = _safe_divisor(y)  # x % 0 = 0 (reference); x % -1 = 0
        r = tirx.truncmod(x, safe) if fmod else tirx.floormod(x, safe)
        return tirx.Select(special, const(0, dtype), r)

    return broadcast_map([a, b], _shape(out_type), ifn, "int_mod")


@register_compute("pow")
def _pow(a: Any, b: Any, *, out_type: Any) -> Any:
    dtype, edtype = dt(a), dt(b)
    if dtype == "bool" or edtype == "bool":
        raise UnsupportedError("pow with bool operands is not implemented")
    if is_float(dtype):
        wd = work_dtype(dtype)
        return broadcast_map([a, b], _shape(out_type),
                             lambda x, y: cast(tirx.power(cast(x, wd), cast(y, wd)), dtype),
                             "pow")
    if is_float(edtype):  # integer base, float exponent: float64, truncated back
        return broadcast_map(
            [a, b], _shape(out_type),
            lambda x, y: cast(tirx.power(cast(x, "float64"), cast(y, "float64")), dtype),
            "pow")

    return _int_pow(a, b, _shape(out_type))


def _int_pow(a: Any, b: Any, out_shape: tuple[int, ...]) -> Any:
    """Integer a ** b, broadcast, as numpy (and the reference) compute it.

    NOTE: [integer pow] e >= 0: the exact power wrapping in the base's dtype (the exponent
    is first cast to the base's dtype, as the reference does), by square-and-multiply over
    its bits in the unsigned type of the same width (defined wrap-around). e < 0:
    trunc(a ** e), i.e. 1 for a = 1, +-1 for a = -1, else 0 (0 for a = 0 too, where the
    reference casts inf to an integer, which is undefined). The reference switches the whole
    tensor to a float64 path when any exponent is negative; the two agree wherever the exact
    power fits the dtype. The loop is a te.extern: unrolled, the squarings form an expression
    DAG that TVM's passes expand into a tree (a 16-bit power took 5 s to compile).
    """
    dtype, edtype = dt(a), dt(b)
    nbits = int(dtype[dtype.index("int") + 3:])
    ud = f"uint{nbits}"
    rank = len(out_shape)

    def body(ins: Any, outs: Any) -> Any:
        ab, bb = ins
        out = outs[0]
        idx = [tirx.Var(f"i{d}", "int32") for d in range(rank)]
        k = tirx.Var("k", "int32")
        st = tirx.decl_buffer((2,), ud, name="pow_state", scope="local")
        one = const(1, ud)
        x = tirx.BufferLoad(ab, list(bcast_index(a, rank, idx)))
        e = tirx.BufferLoad(bb, list(bcast_index(b, rank, idx)))  # bb has b's shape
        acc, p = tirx.BufferLoad(st, [0]), tirx.BufferLoad(st, [1])
        bit = tirx.bitwise_and(tirx.shift_right(cast(cast(e, dtype), ud), cast(k, ud)), one)
        loop = tirx.For(k, 0, nbits, tirx.ForKind.SERIAL, tirx.SeqStmt([
            tirx.IfThenElse(bit == one, tirx.BufferStore(st, acc * p, [0]), None),
            tirx.BufferStore(st, p * p, [1])]))
        result = cast(acc, dtype)
        if is_signed(edtype):
            i_one, zero = const(1, dtype), const(0, dtype)
            if is_signed(dtype):
                odd = tirx.bitwise_and(e, const(1, edtype)) == const(1, edtype)
                minus = const(-1, dtype)
                neg = tirx.Select(x == i_one, i_one,
                                  tirx.Select(x == minus, tirx.Select(odd, minus, i_one), zero))
            else:
                neg = tirx.Select(x == i_one, i_one, zero)
            result = tirx.Select(e < const(0, edtype), neg, result)
        stmt = tirx.SeqStmt([tirx.AllocBuffer(st), tirx.BufferStore(st, one, [0]),
                             tirx.BufferStore(st, cast(x, ud), [1]), loop,
                             tirx.BufferStore(out, result, idx)])
        for d in reversed(range(rank)):
            stmt = tirx.For(idx[d], 0, out_shape[d], tirx.ForKind.SERIAL, stmt)
        return stmt

    # the identity stage on the exponent is inlined by any schedule; it keeps the PrimFunc's
    # implicit root block, which a function of one extern block lacks (get_sblock("root"))
    b_in = te.compute(b.shape, lambda *i: b(*i), name="pow_exponent")
    return te.extern(out_shape, [a, b_in], body, dtype=dtype, name="int_pow")


# --------------------------------------------------------------------------- comparisons
def _comparable(x: Any) -> Any:
    return cast(x, "int8") if dt(x) == "bool" else x


def _compare(op: str, fn: Callable[[Any, Any], Any]) -> None:
    @register_compute(op)
    def rule(a: Any, b: Any, *, out_type: Any) -> Any:
        if dt(a) == "bool":
            return broadcast_map([a, b], _shape(out_type),
                                 lambda x, y: fn(_comparable(x), _comparable(y)), op)
        return getattr(topi, op)(a, b)


for _op, _fn in (("equal", lambda x, y: x == y), ("greater", lambda x, y: x > y),
                 ("less", lambda x, y: x < y), ("greater_equal", lambda x, y: x >= y),
                 ("less_equal", lambda x, y: x <= y)):
    _compare(_op, _fn)


@register_compute("logical_and")
def _logical_and(a: Any, b: Any, *, out_type: Any) -> Any:
    return topi.logical_and(a, b)


@register_compute("logical_or")
def _logical_or(a: Any, b: Any, *, out_type: Any) -> Any:
    return topi.logical_or(a, b)


@register_compute("logical_xor")
def _logical_xor(a: Any, b: Any, *, out_type: Any) -> Any:
    return topi.logical_xor(a, b)


@register_compute("logical_not")
def _logical_not(x: Any, *, out_type: Any) -> Any:
    return topi.logical_not(x)


# --------------------------------------------------------------------------- float unary
def _sigmoid(x: Any) -> Any:
    """1 / (1 + e^-x), without overflow for large |x| (the reference's formula)."""
    wd = dt(x)
    e = tirx.exp(const(0, wd) - tirx.abs(x))
    one = const(1, wd)
    return tirx.Select(x >= const(0, wd), one / (one + e), e / (one + e))


# TOPI's elementwise ops, applied in the work dtype (float32 for half floats, as the references)
_FLOAT_UNARY: dict[str, Callable[[Any], Any]] = {
    "sqrt": tirx.sqrt,
    "exp": tirx.exp,
    "log": tirx.log,
    "erf": tirx.erf,
    "floor": tirx.floor,
    "ceil": tirx.ceil,
    "round": tirx.nearbyint,  # half to even
    "sin": tirx.sin,
    "cos": tirx.cos,
    "tanh": tirx.tanh,
    "reciprocal": lambda x: const(1, dt(x)) / x,
    "sigmoid": _sigmoid,
}


def _float_unary(op: str, fn: Callable[[Any], Any]) -> None:
    @register_compute(op)
    def rule(x: Any, *, out_type: Any) -> Any:
        return via_work(x, fn, op)


for _op, _fn in _FLOAT_UNARY.items():
    _float_unary(_op, _fn)


@register_compute("isnan")
def _isnan(x: Any, *, out_type: Any) -> Any:
    return unary_map(x, lambda v: tirx.isnan(cast(v, work_dtype(dt(x)))), "isnan")


@register_compute("isinf")
def _isinf(x: Any, *, out_type: Any) -> Any:
    return unary_map(x, lambda v: tirx.isinf(cast(v, work_dtype(dt(x)))), "isinf")


# --------------------------------------------------------------------------- numeric unary
@register_compute("neg")
def _neg(x: Any, *, out_type: Any) -> Any:
    if is_float(dt(x)):
        return topi.negative(x)
    return unary_map(x, lambda v: const(0, dt(x)) - v, "neg")  # wraps (unsigned, INT_MIN)


@register_compute("abs")
def _abs(x: Any, *, out_type: Any) -> Any:
    dtype = dt(x)
    if is_int(dtype) and not is_signed(dtype):
        return unary_map(x, lambda v: v, "abs")
    if is_float(dtype):
        return topi.abs(x)
    return unary_map(x, lambda v: tirx.Select(v < const(0, dtype), const(0, dtype) - v, v),
                     "abs")


@register_compute("sign")
def _sign(x: Any, *, out_type: Any) -> Any:
    dtype = dt(x)
    zero, one = const(0, dtype), const(1, dtype)
    if is_int(dtype) and not is_signed(dtype):
        return unary_map(x, lambda v: tirx.Select(v > zero, one, zero), "sign")
    # NaN falls through both tests and stays NaN, as numpy's sign
    return unary_map(x, lambda v: tirx.Select(v > zero, one,
                                              tirx.Select(v < zero, const(-1, dtype), v)),
                     "sign")


# --------------------------------------------------------------------------- where, cast, clip
@register_compute("where")
def _where(cond: Any, x: Any, y: Any, *, out_type: Any) -> Any:
    return topi.where(cond, x, y)


@register_compute("cast")
def _cast(x: Any, *, out_type: Any, dtype: str) -> Any:
    # TVM's cast to bool is `x != 0` with NaN -> true (checked), as numpy's astype(bool);
    # float -> int truncates; int -> narrower int wraps.
    return topi.cast(x, str(out_type.dtype))


def _int_bound(dtype: str, value: float, is_min: bool) -> int:
    """An integer clip bound rounded inward and clamped to the dtype (the reference's rule)."""
    if math.isnan(value):
        raise UnsupportedError(f"clip: a NaN bound on a {dtype} tensor is not implemented")
    info = np.iinfo(dtype)
    if math.isinf(value):
        return int(info.min if value < 0 else info.max)
    v = math.ceil(value) if is_min else math.floor(value)
    return int(min(max(v, info.min), info.max))


@register_compute("clip")
def _clip(x: Any, *, out_type: Any, min: float | None, max: float | None) -> Any:  # noqa: A002
    # NOTE: [clip NaN] numpy.maximum(x, lo) then numpy.minimum(., hi): a NaN input stays NaN
    # (topi.clip uses TVM's Max/Min, which turn it into a bound) and min > max gives max.
    dtype = dt(x)
    if is_float(dtype):
        lo = None if min is None else const(min, dtype)
        hi = None if max is None else const(max, dtype)
        nan_bound = any(v is not None and math.isnan(v) for v in (min, max))
    else:
        lo = None if min is None else const(_int_bound(dtype, min, True), dtype)
        hi = None if max is None else const(_int_bound(dtype, max, False), dtype)
        nan_bound = False

    def fn(v: Any) -> Any:
        if nan_bound:
            return const(np.nan, dtype)
        if lo is not None:
            v = tirx.Select(v < lo, lo, v)
        if hi is not None:
            v = tirx.Select(v > hi, hi, v)
        return v

    return unary_map(x, fn, "clip")

