"""Reductions over axes (sum, mean, max, ... log-sum-exp) and argmax / argmin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType
from edgecc.ops.registry import OpPattern, register_op, register_ref

# NOTE: [reduce axes] `axes=None` reduces over every axis; `axes=()` reduces over none (numpy's
# meaning, and ONNX's `noop_with_empty_axes=1`): the result is x, after the non-reducing steps
# of composite reductions (|x| for l1, x^2 for sum_square ...).


def normalize_axes(op: str, axes: Sequence[int] | None, rank: int) -> tuple[int, ...]:
    """Non-negative, sorted reduction axes (all of them for None); raises on bad ones."""
    if axes is None:
        return tuple(range(rank))
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise TypeInferenceError(f"{op}: axis {a} out of range for rank {rank}")
        out.append(a % rank if rank else a)
    if len(set(out)) != len(out):
        raise TypeInferenceError(f"{op}: repeated axis in {tuple(axes)}")
    return tuple(sorted(out))


def reduced_shape(shape: Sequence[int], axes: Sequence[int], keepdims: bool) -> tuple[int, ...]:
    """The shape left after reducing `axes` (already normalized)."""
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _reduce_rule(op: str, numeric: bool) -> Callable[..., TensorType]:
    def rule(x: TensorType, *, axes: tuple[int, ...] | None, keepdims: bool) -> TensorType:
        if x.dtype == "bool" and numeric:
            raise TypeInferenceError(f"{op} needs a numeric input, got {x}")
        norm = normalize_axes(op, axes, x.rank)
        shape = reduced_shape(x.shape, norm, bool(keepdims))
        return TensorType(shape, x.dtype, x.layout if shape == x.shape else None)

    rule.__doc__ = (f"`{op}(x)`: reduces `axes` (None: all; (): none), keeping them as 1s "
                    "when `keepdims`.")
    return rule


def _wide(x: np.ndarray) -> np.ndarray:
    """Accumulate half floats in float32."""
    if (x.dtype.kind == "f" and x.dtype.itemsize < 4) or x.dtype.kind == "V":
        return x.astype(np.float32)
    return x


def _empty_fill(op: str, dtype: np.dtype) -> Any:
    """The value of a reduction over no elements (ONNX's rule for each op)."""
    if op == "reduce.max":
        if dtype.kind == "b":
            return False
        return np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf
    if op == "reduce.min":
        if dtype.kind == "b":
            return True
        return np.iinfo(dtype).max if dtype.kind in "iu" else np.inf
    if op == "reduce.log_sum_exp":
        return -np.inf
    if op == "reduce.mean":
        return np.nan if dtype.kind not in "iu" else 0
    if op == "reduce.prod":
        return 1
    return 0


def _log_sum_exp(x: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, np.zeros((), m.dtype))
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


_REDUCERS: dict[str, tuple[Callable[..., np.ndarray], bool]] = {
    "reduce.sum": (lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims), True),
    "reduce.mean": (lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims), True),
    "reduce.max": (lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), False),
    "reduce.min": (lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims), False),
    "reduce.prod": (lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims), True),
    "reduce.l1": (lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims),
                  True),
    "reduce.l2": (lambda x, axis, keepdims: np.sqrt(np.sum(np.square(x.astype(
        np.float64 if x.dtype.kind in "iu" else x.dtype)), axis=axis, keepdims=keepdims)), True),
    "reduce.sum_square": (
        lambda x, axis, keepdims: np.sum(np.square(x), axis=axis, keepdims=keepdims), True),
    "reduce.log_sum_exp": (_log_sum_exp, True),
}


def _reduce_ref(op: str, fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, *, axes: tuple[int, ...] | None = None,
            keepdims: bool = True) -> np.ndarray:
        norm = normalize_axes(op, axes, x.ndim)
        shape = reduced_shape(x.shape, norm, bool(keepdims))
        if any(x.shape[a] == 0 for a in norm):
            return np.full(shape, _empty_fill(op, x.dtype)).astype(x.dtype)
        with np.errstate(all="ignore"):
            out = fn(_wide(x), norm, bool(keepdims))
        if x.dtype.kind in "iu" and op in ("reduce.mean", "reduce.l2"):
            out = np.trunc(out)  # integer mean / norm truncate, as a C cast does
        return np.asarray(out).astype(x.dtype).reshape(shape)

    return ref


for _name, (_fn, _numeric) in _REDUCERS.items():
    register_op(_name, attrs={"axes": None, "keepdims": True}, pattern=OpPattern.REDUCTION)(
        _reduce_rule(_name, _numeric))
    register_ref(_name)(_reduce_ref(_name, _fn))


# ---------------------------------------------------------------------- argmax / argmin
def _arg_rule(op: str) -> Callable[..., TensorType]:
    def rule(x: TensorType, *, axis: int, keepdims: bool, select_last_index: bool) -> TensorType:
        if x.rank == 0:
            raise TypeInferenceError(f"{op} needs an input of rank >= 1, got {x}")
        (norm,) = normalize_axes(op, (axis,), x.rank)
        return TensorType(reduced_shape(x.shape, (norm,), bool(keepdims)), "int64")

    rule.__doc__ = (f"`{op}(x)`: int64 index of the extreme along `axis` (the first one, or "
                    "the last with `select_last_index`).")
    return rule


def _arg_ref(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def ref(x: np.ndarray, *, axis: int = 0, keepdims: bool = True,
            select_last_index: bool = False) -> np.ndarray:
        axis = axis % x.ndim
        if select_last_index:
            flipped = np.flip(x, axis=axis)
            idx = x.shape[axis] - 1 - fn(flipped, axis=axis)
        else:
            idx = fn(x, axis=axis)
        if keepdims:
            idx = np.expand_dims(idx, axis)
        return np.asarray(idx).astype(np.int64)

    return ref


for _name, _fn in (("argmax", np.argmax), ("argmin", np.argmin)):
    register_op(_name, attrs={"axis": 0, "keepdims": True, "select_last_index": False},
                pattern=OpPattern.REDUCTION)(_arg_rule(_name))
    register_ref(_name)(_arg_ref(_fn))
