"""TE compute rules: reductions over axes and argmax / argmin.

Accumulation follows the references: half floats in float32; integer sums, products and
norms wrap in the op's dtype (done in an unsigned 32/64-bit accumulator, whose wrap-around is
defined, then truncated); integer means and L2 norms go through float64 and truncate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from tvm import te, tirx

from edgecc.codegen.compute.common import (
    cast,
    const,
    dt,
    is_float,
    is_signed,
    max_value,
    min_value,
    reducer,
    shape_of,
    work_dtype,
    wrap_dtype,
)
from edgecc.codegen.compute.registry import register_compute
from edgecc.ops.reduce import normalize_axes


class _Reduction:
    """Index bookkeeping of a reduction of `x` over `axes` (normalized) with `keepdims`."""

    def __init__(self, op: str, x: Any, axes: tuple[int, ...] | None, keepdims: bool) -> None:
        self.x = x
        self.shape = shape_of(x)
        self.axes = normalize_axes(op, axes, len(self.shape))
        self.keepdims = bool(keepdims)
        self.count = int(np.prod([self.shape[a] for a in self.axes], dtype=np.int64))
        if self.keepdims:
            self.out_shape = tuple(1 if d in self.axes else n for d, n in enumerate(self.shape))
        else:
            self.out_shape = tuple(n for d, n in enumerate(self.shape) if d not in self.axes)

    def full_index(self, out_idx: Sequence[Any], rvars: Sequence[Any]) -> tuple[Any, ...]:
        """The index of x read at output index `out_idx` and reduction variables `rvars`."""
        it = iter(out_idx)
        rv = iter(rvars)
        full = []
        for d in range(len(self.shape)):
            if d in self.axes:
                if self.keepdims:
                    next(it)
                full.append(next(rv))
            else:
                full.append(next(it))
        return tuple(full)

    def reduce(self, pre: Callable[[Any], Any], red: Any, name: str,
               post: Callable[[Any], Any] | None = None) -> Any:
        """out = post(red(pre(x[...]) over the axes)); no axes: out = post(pre(x))."""
        fin = post or (lambda v: v)
        if not self.axes:
            return te.compute(self.out_shape, lambda *i: fin(pre(self.x(*i))), name=name)
        rvars = [te.reduce_axis((0, self.shape[a]), name=f"r{a}") for a in self.axes]

        def body(*i: Any) -> Any:
            return red(pre(self.x(*self.full_index(i, rvars))), axis=rvars)

        acc = te.compute(self.out_shape, body, name=name)
        if post is None:
            return acc
        return te.compute(self.out_shape, lambda *i: post(acc(*i)), name=f"{name}_out")

    def fill(self, value: Any, dtype: str, name: str) -> Any:
        """A reduction over an empty axis: the reference's fill value everywhere."""
        return te.compute(self.out_shape, lambda *i: value, name=name)


def _empty(op: str, r: _Reduction, dtype: str) -> Any | None:
    """The reference's value of a reduction over no elements, or None if there are some."""
    if r.count or not r.axes:
        return None
    if op == "reduce.max":
        return r.fill(min_value(dtype), dtype, "empty")
    if op == "reduce.min":
        return r.fill(max_value(dtype), dtype, "empty")
    if op == "reduce.log_sum_exp":
        return r.fill(const(-np.inf, dtype) if is_float(dtype) else min_value(dtype), dtype,
                      "empty")
    if op == "reduce.mean" and is_float(dtype):
        return r.fill(const(np.nan, dtype), dtype, "empty")
    if op == "reduce.prod":
        return r.fill(const(1, dtype), dtype, "empty")
    return r.fill(const(0, dtype), dtype, "empty")


def _prod(expr: Any, axis: Any) -> Any:
    return _PROD(expr, axis=axis)


_PROD = te.comm_reducer(lambda a, b: a * b, lambda t: tirx.const(1, t), name="prod")


def _sum_like(op: str, x: Any, axes: Any, keepdims: bool) -> Any:
    dtype = dt(x)
    r = _Reduction(op, x, axes, keepdims)
    empty = _empty(op, r, dtype)
    if empty is not None:
        return empty
    return _sum_like_typed(op, r, dtype, op.split(".")[-1])  # bool: rejected by the type rule


def _sum_like_typed(op: str, r: _Reduction, dtype: str, name: str) -> Any:
    n = r.count
    if is_float(dtype):
        wd = work_dtype(dtype)

        def back(v: Any) -> Any:
            return cast(v, dtype)

        if op == "reduce.sum":
            return r.reduce(lambda v: cast(v, wd), te.sum, name, back)
        if op == "reduce.mean":
            return r.reduce(lambda v: cast(v, wd), te.sum, name,
                            lambda s: back(s / const(n, wd)))
        if op == "reduce.prod":
            return r.reduce(lambda v: cast(v, wd), _prod, name, back)
        if op == "reduce.l1":
            return r.reduce(lambda v: tirx.abs(cast(v, wd)), te.sum, name, back)
        if op == "reduce.sum_square":
            return r.reduce(lambda v: cast(v, wd) * cast(v, wd), te.sum, name, back)
        if op == "reduce.l2":
            return r.reduce(lambda v: cast(v, wd) * cast(v, wd), te.sum, name,
                            lambda s: back(tirx.sqrt(s)))
        raise AssertionError(op)
    # integers: wrap-around sums and products; mean and l2 through float64, truncated
    acc = wrap_dtype(dtype)

    def wrap_back(v: Any) -> Any:
        return cast(v, dtype)

    if op == "reduce.sum":
        return r.reduce(lambda v: cast(v, acc), te.sum, name, wrap_back)
    if op == "reduce.prod":
        return r.reduce(lambda v: cast(v, acc), _prod, name, wrap_back)
    if op == "reduce.l1":
        def absval(v: Any) -> Any:
            if is_signed(dtype):  # numpy.abs wraps INT_MIN to itself; so does 0 - v here
                v = tirx.Select(v < const(0, dtype), const(0, dtype) - v, v)
            return cast(v, acc)

        return r.reduce(absval, te.sum, name, wrap_back)
    if op == "reduce.sum_square":
        return r.reduce(lambda v: cast(v, acc) * cast(v, acc), te.sum, name, wrap_back)
    if op == "reduce.mean":
        return r.reduce(lambda v: cast(v, "float64"), te.sum, name,
                        lambda s: cast(tirx.trunc(s / const(n, "float64")), dtype))
    if op == "reduce.l2":
        return r.reduce(lambda v: cast(v, "float64") * cast(v, "float64"), te.sum, name,
                        lambda s: cast(tirx.trunc(tirx.sqrt(s)), dtype))
    raise AssertionError(op)


def _register_sum_like(op: str) -> None:
    @register_compute(op)
    def rule(x: Any, *, out_type: Any, axes: Any, keepdims: bool) -> Any:
        return _sum_like(op, x, axes, keepdims)


for _op in ("reduce.sum", "reduce.mean", "reduce.prod", "reduce.l1", "reduce.l2",
            "reduce.sum_square"):
    _register_sum_like(_op)


def _extreme(op: str, kind: str) -> None:
    @register_compute(op)
    def rule(x: Any, *, out_type: Any, axes: Any, keepdims: bool) -> Any:
        # numpy max / min propagate NaN (TVM's Max / Min reducers do not)
        dtype = dt(x)
        r = _Reduction(op, x, axes, keepdims)
        empty = _empty(op, r, dtype)
        if empty is not None:
            return empty
        name = op.split(".")[-1]
        if dtype == "bool":
            out = r.reduce(lambda v: cast(v, "uint8"), reducer(kind, "uint8"), name)
            return te.compute(out.shape, lambda *i: out(*i) != const(0, "uint8"),
                              name="as_bool")
        return r.reduce(lambda v: v, reducer(kind, dtype), name)


_extreme("reduce.max", "max")
_extreme("reduce.min", "min")


@register_compute("reduce.log_sum_exp")
def _log_sum_exp(x: Any, *, out_type: Any, axes: Any, keepdims: bool) -> Any:
    op = "reduce.log_sum_exp"
    dtype = dt(x)
    r = _Reduction(op, x, axes, keepdims)
    empty = _empty(op, r, dtype)
    if empty is not None:
        return empty
    # m = max(x), replaced by 0 where not finite; out = log(sum(exp(x - m))) + m.
    # Integer inputs go through float64 (numpy's exp of an integer array) and truncate.
    wd = work_dtype(dtype) if is_float(dtype) else "float64"
    kdt = dt(x)
    mx = r.reduce(lambda v: v, reducer("max", kdt), "lse_max")

    def shift_at(out_idx: Sequence[Any]) -> Any:
        m = cast(mx(*out_idx), wd)
        return tirx.Select(tirx.isfinite(m), m, const(0, wd)) if is_float(kdt) else m

    def out_index(full: Sequence[Any]) -> tuple[Any, ...]:
        if r.keepdims:
            return tuple(0 if d in r.axes else full[d] for d in range(len(full)))
        return tuple(full[d] for d in range(len(full)) if d not in r.axes)

    if not r.axes:
        def ident(*i: Any) -> Any:
            s = shift_at(i)
            return _lse_back(tirx.log(tirx.exp(cast(x(*i), wd) - s)) + s, dtype)

        return te.compute(r.out_shape, ident, name="log_sum_exp")
    rvars = [te.reduce_axis((0, r.shape[a]), name=f"r{a}") for a in r.axes]

    def body(*i: Any) -> Any:
        full = r.full_index(i, rvars)
        return te.sum(tirx.exp(cast(x(*full), wd) - shift_at(out_index(full))), axis=rvars)

    total = te.compute(r.out_shape, body, name="lse_sum")
    return te.compute(r.out_shape,
                      lambda *i: _lse_back(tirx.log(total(*i)) + shift_at(i), dtype),
                      name="log_sum_exp")


def _lse_back(v: Any, dtype: str) -> Any:
    if is_float(dtype):
        return cast(v, dtype)
    return cast(tirx.trunc(v), dtype)


# --------------------------------------------------------------------------- argmax / argmin
def _arg_reducer(kind: str, dtype: str, last: bool) -> Any:
    """A reducer over (index, value) pairs: the extreme value, NaN beating every number (as
    numpy's argmax / argmin), ties to the first index (or the last)."""
    floating = is_float(dtype)

    def better(xi: Any, xv: Any, yi: Any, yv: Any) -> Any:
        strict = xv > yv if kind == "max" else xv < yv
        same = xv == yv
        if floating:
            xn, yn = tirx.isnan(xv), tirx.isnan(yv)
            strict = tirx.Or(tirx.And(xn, tirx.Not(yn)), strict)
            same = tirx.Or(same, tirx.And(xn, yn))
        tie = xi > yi if last else xi < yi
        return tirx.Or(strict, tirx.And(same, tie))

    def combine(x: Any, y: Any) -> Any:
        b = better(x[0], x[1], y[0], y[1])
        return tirx.Select(b, x[0], y[0]), tirx.Select(b, x[1], y[1])

    def identity(t_idx: Any, t_val: Any) -> Any:
        # the identity loses every tie (its index is beyond the real ones)
        idx = tirx.const(-1 if last else np.iinfo(np.int64).max, t_idx)
        val = min_value(str(t_val)) if kind == "max" else max_value(str(t_val))
        return idx, val

    return te.comm_reducer(combine, identity, name=f"arg{kind}")


def _arg(kind: str) -> None:
    op = f"arg{kind}"

    @register_compute(op)
    def rule(x: Any, *, out_type: Any, axis: int, keepdims: bool,
             select_last_index: bool) -> Any:
        # NOTE: [argmax] topi.argmax ignores NaN (numpy returns the first NaN) and returns -1
        # for a row of -inf (its reducer's identity wins the tie); handwritten.
        shape = shape_of(x)
        axis = axis % len(shape)
        if dt(x) == "bool":
            x = te.compute(x.shape, lambda *i: cast(x(*i), "int8"), name="as_int")
        dtype = dt(x)
        red = _arg_reducer(kind, dtype, bool(select_last_index))
        k = te.reduce_axis((0, shape[axis]), name="k")
        if keepdims:
            out_shape = tuple(1 if d == axis else n for d, n in enumerate(shape))
        else:
            out_shape = tuple(n for d, n in enumerate(shape) if d != axis)

        def body(*i: Any) -> Any:
            if keepdims:
                full = i[:axis] + (k,) + i[axis + 1:]
            else:
                full = i[:axis] + (k,) + i[axis:]
            return red((cast(k.var, "int64"), x(*full)), axis=k)

        idx, _val = te.compute(out_shape, body, name=op)
        return idx


_arg("max")
_arg("min")
