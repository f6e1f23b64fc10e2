"""ONNX converters: shape and constant ops, all folded to constants at import (static graph)."""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np
import onnx

from edgecc.errors import EdgeccError
from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node
from edgecc.ir.types import canonical_dtype

Inputs = list[Node | None]


def _input(ctx: ConvertContext, node: Node | None) -> Node:
    if node is None:
        raise ctx.error("missing input")
    return node


def _const_array(ctx: ConvertContext, value: Any, what: str) -> Node:
    """A constant node holding `value` (any size: added directly, never size-limited)."""
    arr = np.asarray(value)
    try:
        canonical_dtype(arr.dtype)
    except EdgeccError:
        raise ctx.unsupported(f"{what} of element type {arr.dtype} is not supported") from None
    return ctx.const(arr)


# --------------------------------------------------------------------------- Shape, Size
@converter("Shape", since=1)
def shape_v1(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Shape: the input's (static) shape as an int64 constant."""
    return ctx.const(np.array(_input(ctx, inputs[0]).shape, dtype=np.int64))


@converter("Shape", since=15)
def shape_v15(ctx: ConvertContext, inputs: Inputs, *, start: int = 0,
              end: int | None = None) -> Node:
    """Shape-15+: dims start..end (negative counts from the end, clamped)."""
    dims = _input(ctx, inputs[0]).shape
    return ctx.const(np.array(dims[start:end], dtype=np.int64))


@converter("Size", since=1)
def size(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Size: the element count as an int64 scalar constant."""
    return ctx.const(np.array(prod(_input(ctx, inputs[0]).shape), dtype=np.int64))


# --------------------------------------------------------------------------- Constant
def _constant(ctx: ConvertContext, value: Any = None, value_float: float | None = None,
              value_floats: Sequence[float] | None = None, value_int: int | None = None,
              value_ints: Sequence[int] | None = None, value_string: str | None = None,
              value_strings: Sequence[str] | None = None, sparse_value: Any = None) -> Node:
    given = {k: v for k, v in {
        "value": value, "value_float": value_float, "value_floats": value_floats,
        "value_int": value_int, "value_ints": value_ints, "value_string": value_string,
        "value_strings": value_strings, "sparse_value": sparse_value}.items() if v is not None}
    if len(given) != 1:
        raise ctx.error(f"Constant needs exactly one value attribute, got {sorted(given)}")
    (kind, v), = given.items()
    if kind in ("value_string", "value_strings", "sparse_value"):
        raise ctx.unsupported(f"Constant with {kind} (string and sparse constants are not "
                              "supported)")
    if kind in ("value_float", "value_floats"):
        return ctx.const(np.asarray(v, dtype=np.float32))
    if kind in ("value_int", "value_ints"):
        return ctx.const(np.asarray(v, dtype=np.int64))
    return _const_array(ctx, v, "Constant value")


@converter("Constant", since=1)
def constant_v1(ctx: ConvertContext, inputs: Inputs, *, value: Any) -> Node:
    """Constant-1/9: a tensor attribute."""
    return _constant(ctx, value)


@converter("Constant", since=11)
def constant_v11(ctx: ConvertContext, inputs: Inputs, *, value: Any = None,
                 sparse_value: Any = None) -> Node:
    """Constant-11: value or sparse_value (unsupported)."""
    return _constant(ctx, value, sparse_value=sparse_value)


@converter("Constant", since=12)
def constant_v12(ctx: ConvertContext, inputs: Inputs, *, value: Any = None,
                 value_float: float | None = None, value_floats: Sequence[float] | None = None,
                 value_int: int | None = None, value_ints: Sequence[int] | None = None,
                 value_string: str | None = None, value_strings: Sequence[str] | None = None,
                 sparse_value: Any = None) -> Node:
    """Constant-12+: value, value_float(s), value_int(s); strings and sparse unsupported."""
    return _constant(ctx, value, value_float, value_floats, value_int, value_ints, value_string,
                     value_strings, sparse_value)


@converter("ConstantOfShape", since=9)
def constant_of_shape(ctx: ConvertContext, inputs: Inputs, *, value: Any = None) -> Node:
    """ConstantOfShape: a filled tensor of a constant shape (float32 0 by default)."""
    shape = [int(d) for d in np.asarray(ctx.require_const(inputs[0], "input")).reshape(-1)]
    if any(d < 0 for d in shape):
        raise ctx.error(f"negative dimension in shape {shape}")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value)
    if fill.size != 1:
        raise ctx.error(f"value must hold one element, got shape {list(fill.shape)}")
    return _const_array(ctx, np.full(shape, fill.reshape(-1)[0], dtype=fill.dtype),
                        "ConstantOfShape value")


# --------------------------------------------------------------------------- Range, EyeLike
def _range(ctx: ConvertContext, inputs: Inputs) -> Node:
    names = ("start", "limit", "delta")
    for node, name in zip(inputs, names):
        if node is None:
            raise ctx.error(f"missing input {name!r}")
        if ctx.value(node) is None:
            raise ctx.unsupported(f"input {name!r} is computed at run time (by %{node.name}); "
                                  "Range needs constant start, limit and delta")
    start, limit, delta = (np.asarray(ctx.value(n)) for n in inputs[:3])
    dtype = start.dtype
    if delta == 0:
        raise ctx.error("delta is 0")
    if np.issubdtype(dtype, np.integer):
        s, lim, d = int(start), int(limit), int(delta)
        count = max(-(-(lim - s) // d), 0)
        values = s + np.arange(count, dtype=np.int64) * d
    else:
        s, lim, d = float(start), float(limit), float(delta)
        count = max(int(np.ceil((lim - s) / d)), 0)
        values = s + np.arange(count, dtype=np.float64) * d
    return _const_array(ctx, values.astype(dtype), "Range")


@converter("Range", since=11)
def range_v11(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Range with constant inputs, folded to a constant."""
    return _range(ctx, inputs)


@converter("Range", since=27)
def range_v27(ctx: ConvertContext, inputs: Inputs, *, stash_type: int = 1) -> Node:
    """Range-27: stash_type only changes low-precision accumulation; folded the same way."""
    return _range(ctx, inputs)


@converter("EyeLike", since=9)
def eye_like(ctx: ConvertContext, inputs: Inputs, *, k: int = 0,
             dtype: int | None = None) -> Node:
    """EyeLike: ones on diagonal k of a 2-D constant shaped like the input."""
    x = _input(ctx, inputs[0])
    if len(x.shape) != 2:
        raise ctx.error(f"EyeLike needs a 2-D input, got shape {list(x.shape)}")
    if dtype is None:
        np_dtype = np.dtype(x.dtype)
    else:
        try:
            np_dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(dtype))
        except Exception:
            raise ctx.unsupported(f"dtype {dtype}") from None
    rows, cols = x.shape
    return _const_array(ctx, np.eye(rows, cols, k, dtype=np_dtype), "EyeLike")
