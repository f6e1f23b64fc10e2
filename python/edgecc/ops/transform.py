"""Ops: the transform family (data movement: reshape, transpose, concat, slice, gather ...)."""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType
from edgecc.ops.registry import REQUIRED, OpPattern, register_op, register_ref

_INJ = OpPattern.INJECTIVE
_PAD_MODES = ("constant", "reflect", "edge", "wrap")


# --------------------------------------------------------------------------- helpers
def derived(x: TensorType, shape: Sequence[int], dtype: str | None = None) -> TensorType:
    """The type of a data-movement result: new shape, no layout, per-tensor quant kept."""
    quant = x.quant if x.quant is not None and x.quant.axis is None else None
    return TensorType(tuple(shape), dtype or x.dtype, None, quant)


def check_axis(axis: int, rank: int, op: str) -> None:
    """Raise unless `axis` is a normalized (non-negative) axis of a rank-`rank` tensor."""
    if not 0 <= axis < rank:
        raise TypeInferenceError(f"{op}: axis {axis} is out of range for rank {rank} "
                                 "(axes are normalized to [0, rank) at import)")


def _check_int(t: TensorType, what: str, op: str) -> None:
    if not np.issubdtype(np.dtype(t.dtype), np.integer):
        raise TypeInferenceError(f"{op}: {what} must be an integer tensor, got {t}")


# --------------------------------------------------------------------------- reshape
@register_op("reshape", attrs={"newshape": REQUIRED}, pattern=_INJ)
def _reshape_type(x: TensorType, *, newshape: tuple[int, ...]) -> TensorType:
    """Reshape to a fully static shape (no -1 or 0 placeholders)."""
    if any(d < 0 for d in newshape):
        raise TypeInferenceError(f"reshape: newshape {list(newshape)} must be fully static "
                                 "(no -1; the frontend resolves it)")
    if prod(newshape) != x.numel:
        raise TypeInferenceError(f"reshape: cannot reshape {x} ({x.numel} elements) to "
                                 f"{list(newshape)} ({prod(newshape)} elements)")
    return derived(x, newshape)


@register_ref("reshape")
def _reshape_ref(x: np.ndarray, *, newshape: tuple[int, ...]) -> np.ndarray:
    return np.reshape(x, newshape)


# --------------------------------------------------------------------------- transpose
@register_op("transpose", attrs={"axes": REQUIRED}, pattern=_INJ)
def _transpose_type(x: TensorType, *, axes: tuple[int, ...]) -> TensorType:
    """Permute the dimensions: output dim i is input dim axes[i]."""
    if sorted(axes) != list(range(x.rank)):
        raise TypeInferenceError(f"transpose: axes {list(axes)} is not a permutation of "
                                 f"0..{x.rank - 1} for {x}")
    quant = x.quant
    if quant is not None and quant.axis is not None:
        quant = type(quant)(quant.scale, quant.zero_point, axes.index(quant.axis))
    return TensorType(tuple(x.shape[a] for a in axes), x.dtype, None, quant)


@register_ref("transpose")
def _transpose_ref(x: np.ndarray, *, axes: tuple[int, ...]) -> np.ndarray:
    return np.transpose(x, axes)


# --------------------------------------------------------------------------- concat
@register_op("concat", attrs={"axis": REQUIRED}, inputs=(1, None), pattern=_INJ)
def _concat_type(*xs: TensorType, axis: int) -> TensorType:
    """Join tensors along `axis`; the other dimensions and the dtype must agree."""
    first = xs[0]
    check_axis(axis, first.rank, "concat")
    for x in xs[1:]:
        if x.dtype != first.dtype:
            raise TypeInferenceError(f"concat: mixed dtypes {first} and {x}")
        if x.rank != first.rank or any(
                a != b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != axis):
            shown = ", ".join(str(t) for t in xs)
            raise TypeInferenceError(f"concat on axis {axis}: shapes differ off the axis: "
                                     f"{shown}")
    shape = list(first.shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    quants = {x.quant for x in xs}
    out = derived(first, shape)
    return out if len(quants) == 1 else TensorType(out.shape, out.dtype)


@register_ref("concat")
def _concat_ref(*xs: np.ndarray, axis: int) -> np.ndarray:
    return np.concatenate(xs, axis=axis)


# --------------------------------------------------------------------------- split
@register_op("split", attrs={"axis": REQUIRED, "sizes": REQUIRED}, pattern=_INJ)
def _split_type(x: TensorType, *, axis: int, sizes: tuple[int, ...]) -> tuple[TensorType, ...]:
    """Split along `axis` into pieces of the given sizes; the result is a tuple."""
    check_axis(axis, x.rank, "split")
    if not sizes or any(s < 0 for s in sizes) or sum(sizes) != x.shape[axis]:
        raise TypeInferenceError(f"split: sizes {list(sizes)} must be non-negative and sum "
                                 f"to dimension {axis} of {x} ({x.shape[axis]})")
    outs = []
    for size in sizes:
        shape = list(x.shape)
        shape[axis] = size
        outs.append(derived(x, shape))
    return tuple(outs)


@register_ref("split")
def _split_ref(x: np.ndarray, *, axis: int, sizes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    cuts = np.cumsum(sizes)[:-1]
    return tuple(np.split(x, cuts, axis=axis))


# --------------------------------------------------------------------------- slice
def slice_length(start: int, end: int, step: int) -> int:
    """Elements taken by a normalized slice (end -1 with a negative step means 'through 0')."""
    if step > 0:
        return max(0, -(-(end - start) // step))
    return max(0, -(-(start - end) // -step))


@register_op("slice", attrs={"starts": REQUIRED, "ends": REQUIRED, "axes": REQUIRED,
                             "steps": REQUIRED}, pattern=_INJ)
def _slice_type(x: TensorType, *, starts: tuple[int, ...], ends: tuple[int, ...],
                axes: tuple[int, ...], steps: tuple[int, ...]) -> TensorType:
    """Strided slice with clamped, normalized bounds.

    For a dimension d and step > 0, 0 <= start, end <= d; for step < 0, 0 <= start <= d-1 and
    -1 <= end <= d-1, where end -1 means the slice runs through index 0 (ONNX's clamping).
    """
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise TypeInferenceError("slice: starts, ends, axes and steps must have equal lengths, "
                                 f"got {len(starts)}, {len(ends)}, {len(axes)}, {len(steps)}")
    if len(set(axes)) != len(axes):
        raise TypeInferenceError(f"slice: repeated axes {list(axes)}")
    shape = list(x.shape)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        check_axis(axis, x.rank, "slice")
        dim = x.shape[axis]
        if step == 0:
            raise TypeInferenceError("slice: step 0")
        if step > 0:
            ok = 0 <= start <= dim and 0 <= end <= dim
        else:
            ok = (0 <= start <= max(dim - 1, 0)) and -1 <= end <= max(dim - 1, 0)
        if not ok:
            raise TypeInferenceError(
                f"slice: bounds start={start} end={end} step={step} on axis {axis} (size "
                f"{dim}) are not clamped (the frontend normalizes them)")
        shape[axis] = slice_length(start, end, step) if dim else 0
    return derived(x, shape)


@register_ref("slice")
def _slice_ref(x: np.ndarray, *, starts: tuple[int, ...], ends: tuple[int, ...],
               axes: tuple[int, ...], steps: tuple[int, ...]) -> np.ndarray:
    index: list[Any] = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[axis] = slice(start, None if end < 0 else end, step)
    return x[tuple(index)]


# --------------------------------------------------------------------------- gather
@register_op("gather", attrs={"axis": 0}, inputs=2, pattern=_INJ)
def _gather_type(data: TensorType, indices: TensorType, *, axis: int) -> TensorType:
    """Take entries of `data` along `axis` (ONNX Gather; negative indices wrap)."""
    check_axis(axis, data.rank, "gather")
    _check_int(indices, "indices", "gather")
    shape = data.shape[:axis] + indices.shape + data.shape[axis + 1:]
    return derived(data, shape)


def _wrap_indices(indices: np.ndarray, dim: int, op: str) -> np.ndarray:
    idx = np.asarray(indices).astype(np.int64)
    bad = (idx < -dim) | (idx >= dim)
    if bad.any():
        raise IndexError(f"{op}: index {int(idx[bad].flat[0])} is out of range for a "
                         f"dimension of size {dim}")
    return np.where(idx < 0, idx + dim, idx)


@register_ref("gather")
def _gather_ref(data: np.ndarray, indices: np.ndarray, *, axis: int) -> np.ndarray:
    idx = _wrap_indices(indices, data.shape[axis], "gather")
    return np.take(data, idx, axis=axis)


@register_op("gather_elements", attrs={"axis": 0}, inputs=2, pattern=_INJ)
def _gather_elements_type(data: TensorType, indices: TensorType, *, axis: int) -> TensorType:
    """out[i][j][k] = data[i][indices[i][j][k]][k] for axis 1 (ONNX GatherElements)."""
    check_axis(axis, data.rank, "gather_elements")
    _check_int(indices, "indices", "gather_elements")
    if indices.rank != data.rank:
        raise TypeInferenceError(f"gather_elements: indices {indices} and data {data} must "
                                 "have the same rank")
    for d, (n_i, n_d) in enumerate(zip(indices.shape, data.shape)):
        if d != axis and n_i > n_d:
            raise TypeInferenceError(f"gather_elements: indices {indices} exceed data {data} "
                                     f"on axis {d}")
    return derived(data, indices.shape)


@register_ref("gather_elements")
def _gather_elements_ref(data: np.ndarray, indices: np.ndarray, *, axis: int) -> np.ndarray:
    idx = _wrap_indices(indices, data.shape[axis], "gather_elements")
    grid = list(np.indices(idx.shape, sparse=True))
    grid[axis] = idx
    return data[tuple(grid)]


# --------------------------------------------------------------------------- pad
@register_op("pad", attrs={"pads": REQUIRED, "mode": "constant", "value": 0.0}, pattern=_INJ)
def _pad_type(x: TensorType, *, pads: tuple[int, ...], mode: str, value: float) -> TensorType:
    """Pad (or, with negative pads, crop) each axis; pads are all begins, then all ends."""
    if mode not in _PAD_MODES:
        raise TypeInferenceError(f"pad: mode {mode!r} is not one of {list(_PAD_MODES)}")
    if len(pads) != 2 * x.rank:
        raise TypeInferenceError(f"pad: {len(pads)} pads for {x}; expected {2 * x.rank} "
                                 "(all begins, then all ends)")
    shape = []
    for axis, dim in enumerate(x.shape):
        begin, end = pads[axis], pads[axis + x.rank]
        out = dim + begin + end
        if out < 0:
            raise TypeInferenceError(f"pad: pads ({begin}, {end}) crop more than dimension "
                                     f"{axis} of {x} holds")
        cropped = dim + min(begin, 0) + min(end, 0)
        if mode != "constant" and cropped == 0 and out > 0:
            raise TypeInferenceError(f"pad: mode {mode!r} cannot pad an empty dimension "
                                     f"{axis} of {x}")
        shape.append(out)
    return derived(x, shape)


@register_ref("pad")
def _pad_ref(x: np.ndarray, *, pads: tuple[int, ...], mode: str, value: float) -> np.ndarray:
    rank = x.ndim
    crop = tuple(slice(max(-pads[a], 0), x.shape[a] - max(-pads[a + rank], 0))
                 for a in range(rank))
    x = x[crop]
    width = [(max(pads[a], 0), max(pads[a + rank], 0)) for a in range(rank)]
    if mode == "constant":
        fill = np.array(value).astype(x.dtype)
        return np.pad(x, width, mode="constant", constant_values=fill)
    return np.pad(x, width, mode=mode)


# --------------------------------------------------------------------------- broadcast / tile
@register_op("broadcast_to", attrs={"shape": REQUIRED}, pattern=OpPattern.BROADCAST)
def _broadcast_to_type(x: TensorType, *, shape: tuple[int, ...]) -> TensorType:
    """Numpy-broadcast `x` to exactly `shape`."""
    try:
        full = np.broadcast_shapes(x.shape, tuple(shape))
    except ValueError:
        full = None
    if full != tuple(shape):
        raise TypeInferenceError(f"broadcast_to: {x} does not broadcast to {list(shape)}")
    return derived(x, shape)


@register_ref("broadcast_to")
def _broadcast_to_ref(x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
    return np.array(np.broadcast_to(x, shape))


@register_op("tile", attrs={"repeats": REQUIRED}, pattern=_INJ)
def _tile_type(x: TensorType, *, repeats: tuple[int, ...]) -> TensorType:
    """Repeat `x` `repeats[i]` times along each axis i (one repeat per axis)."""
    if len(repeats) != x.rank or any(r < 0 for r in repeats):
        raise TypeInferenceError(f"tile: repeats {list(repeats)} must give one non-negative "
                                 f"count per axis of {x}")
    return derived(x, [d * r for d, r in zip(x.shape, repeats)])


@register_ref("tile")
def _tile_ref(x: np.ndarray, *, repeats: tuple[int, ...]) -> np.ndarray:
    return np.tile(x, repeats)


# --------------------------------------------------------------------------- trilu
@register_op("trilu", attrs={"upper": True, "k": 0}, pattern=_INJ)
def _trilu_type(x: TensorType, *, upper: bool, k: int) -> TensorType:
    """Keep the upper (or lower) triangle of the last two dims, offset by diagonal k."""
    if x.rank < 2:
        raise TypeInferenceError(f"trilu needs a tensor of rank >= 2, got {x}")
    return derived(x, x.shape)


@register_ref("trilu")
def _trilu_ref(x: np.ndarray, *, upper: bool, k: int) -> np.ndarray:
    rows, cols = x.shape[-2:]
    r = np.arange(rows)[:, None]
    c = np.arange(cols)[None, :]
    keep = (c - r >= k) if upper else (c - r <= k)
    return np.where(keep, x, np.zeros((), x.dtype)).astype(x.dtype)


# The image-like ops (resize, depth/space) live in their own module; importing it registers them.
from edgecc.ops import transform_image as _transform_image  # noqa: E402,F401
