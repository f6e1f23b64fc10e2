"""ONNX converters: arithmetic, comparison, logical and unary math ops, Where, Cast, Clip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx

from edgecc.errors import EdgeccError
from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node
from edgecc.ir.types import canonical_dtype

Inputs = list[Node | None]


# ---------------------------------------------------------------------- helpers
def reshape_to(ctx: ConvertContext, x: Node, shape: Sequence[int]) -> Node:
    """`x` reshaped to a static `shape`: a new constant when x is one, else a `reshape` op."""
    shape = tuple(int(d) for d in shape)
    if shape == x.shape:
        return x
    value = ctx.value(x)
    if value is not None:
        return ctx.const(np.asarray(value).reshape(shape))
    return ctx.emit("reshape", [x], {"newshape": shape})


def legacy_broadcast(ctx: ConvertContext, a: Node, b: Node, broadcast: int,
                     axis: int | None) -> Node:
    """B of an opset < 7 binary op, reshaped so numpy broadcasting gives the old semantics.

    Old ONNX broadcast B's shape onto a contiguous run of A's dimensions starting at `axis`
    (default: aligned to the end, which is numpy's rule); without `broadcast`, the shapes are
    equal.
    """
    if not broadcast:
        if a.shape != b.shape:
            raise ctx.error(f"inputs of shapes {list(a.shape)} and {list(b.shape)} without "
                            "broadcast=1")
        return b
    ra, rb = len(a.shape), len(b.shape)
    if rb > ra:
        raise ctx.error(f"B {list(b.shape)} has a higher rank than A {list(a.shape)}")
    if axis is None or rb == 0:
        axis = ra - rb
    if axis < 0:
        axis += ra
    if not 0 <= axis <= ra - rb:
        raise ctx.error(f"broadcast axis {axis} does not fit B {list(b.shape)} into "
                        f"A {list(a.shape)}")
    window = a.shape[axis:axis + rb]
    if any(db not in (1, da) for da, db in zip(window, b.shape)):
        raise ctx.error(f"B {list(b.shape)} does not broadcast onto A {list(a.shape)} at "
                        f"axis {axis}")
    return reshape_to(ctx, b, tuple(b.shape) + (1,) * (ra - axis - rb))


def _inputs(ctx: ConvertContext, inputs: Inputs, count: int) -> list[Node]:
    got = [i for i in inputs[:count] if i is not None]
    if len(got) != count:
        raise ctx.error(f"needs {count} inputs, got {len(got)}")
    return got


def onnx_dtype(ctx: ConvertContext, elem_type: int | str) -> str:
    """edgecc's dtype for an ONNX TensorProto element type (or its name, as opset 1 gave)."""
    try:
        if isinstance(elem_type, str):
            elem_type = onnx.TensorProto.DataType.Value(elem_type.upper())
        return canonical_dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (ValueError, KeyError, EdgeccError):
        name = elem_type
        if isinstance(elem_type, int) and elem_type in onnx.TensorProto.DataType.values():
            name = onnx.TensorProto.DataType.Name(elem_type)
        raise ctx.unsupported(f"element type {name} is not supported") from None


# ---------------------------------------------------------------------- binary ops
_ARITH = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow"}
_LEGACY_COMPARE = {"Equal": "equal", "Greater": "greater", "Less": "less",
                   "And": "logical_and", "Or": "logical_or", "Xor": "logical_xor"}


def _register_binary(onnx_op: str, ir_op: str, since: int, legacy: bool) -> None:
    if legacy:
        @converter(onnx_op, since=1)
        def convert_legacy(ctx: ConvertContext, inputs: Inputs, *, broadcast: int = 0,
                           axis: int | None = None,
                           consumed_inputs: list[int] | None = None) -> Node:
            a, b = _inputs(ctx, inputs, 2)
            return ctx.emit(ir_op, [a, legacy_broadcast(ctx, a, b, broadcast, axis)])

    @converter(onnx_op, since=since)
    def convert(ctx: ConvertContext, inputs: Inputs) -> Node:
        return ctx.emit(ir_op, _inputs(ctx, inputs, 2))


for _onnx, _ir in {**_ARITH, **_LEGACY_COMPARE}.items():
    _register_binary(_onnx, _ir, 7, legacy=True)
_register_binary("GreaterOrEqual", "greater_equal", 12, legacy=False)
_register_binary("LessOrEqual", "less_equal", 12, legacy=False)


@converter("Mod", since=10)
def convert_mod(ctx: ConvertContext, inputs: Inputs, *, fmod: int = 0) -> Node:
    if fmod not in (0, 1):
        raise ctx.error(f"fmod must be 0 or 1, got {fmod}")
    return ctx.emit("mod", _inputs(ctx, inputs, 2), {"fmod": fmod})


def _chain(ctx: ConvertContext, ir_op: str, inputs: Inputs) -> Node:
    args = [i for i in inputs if i is not None]
    if not args:
        raise ctx.error("needs at least one input")
    if len(args) == 1:
        return ctx.emit("identity", args)
    out = args[0]
    for nxt in args[1:]:
        out = ctx.emit(ir_op, [out, nxt])
    return out


def _register_variadic(onnx_op: str, ir_op: str) -> None:
    @converter(onnx_op, since=1)
    def convert(ctx: ConvertContext, inputs: Inputs, *,
                consumed_inputs: list[int] | None = None) -> Node:
        return _chain(ctx, ir_op, inputs)


for _onnx, _ir in {"Sum": "add", "Max": "maximum", "Min": "minimum"}.items():
    _register_variadic(_onnx, _ir)


@converter("Mean", since=1)
def convert_mean(ctx: ConvertContext, inputs: Inputs, *,
                 consumed_inputs: list[int] | None = None) -> Node:
    args = [i for i in inputs if i is not None]
    total = _chain(ctx, "add", args)
    if len(args) == 1:
        return total
    return ctx.emit("div", [total, ctx.const(np.asarray(len(args), dtype=total.dtype))])


# ---------------------------------------------------------------------- unary ops
_UNARY_V1 = {"Sqrt": "sqrt", "Exp": "exp", "Log": "log", "Neg": "neg", "Abs": "abs",
             "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil", "Tanh": "tanh",
             "Sigmoid": "sigmoid"}
_UNARY_LATER = {"Not": ("logical_not", 1), "Erf": ("erf", 9), "Sign": ("sign", 9),
                "Sin": ("sin", 7), "Cos": ("cos", 7), "Round": ("round", 11),
                "IsNaN": ("isnan", 9)}


def _register_unary(onnx_op: str, ir_op: str, since: int) -> None:
    @converter(onnx_op, since=since)
    def convert(ctx: ConvertContext, inputs: Inputs, *,
                consumed_inputs: list[int] | None = None) -> Node:
        return ctx.emit(ir_op, _inputs(ctx, inputs, 1))


for _onnx, _ir in _UNARY_V1.items():
    _register_unary(_onnx, _ir, 1)
for _onnx, (_ir, _since) in _UNARY_LATER.items():
    _register_unary(_onnx, _ir, _since)


@converter("IsInf", since=10)
def convert_isinf(ctx: ConvertContext, inputs: Inputs, *, detect_negative: int = 1,
                  detect_positive: int = 1) -> Node:
    (x,) = _inputs(ctx, inputs, 1)
    if not detect_negative and not detect_positive:
        return ctx.const(np.zeros(x.shape, dtype=bool))
    inf = ctx.emit("isinf", [x])
    if detect_negative and detect_positive:
        return inf
    zero = ctx.const(np.zeros((), dtype=x.dtype))
    sign = ctx.emit("greater" if detect_positive else "less", [x, zero])
    return ctx.emit("logical_and", [inf, sign])


@converter("Where", since=9)
def convert_where(ctx: ConvertContext, inputs: Inputs) -> Node:
    return ctx.emit("where", _inputs(ctx, inputs, 3))


# ---------------------------------------------------------------------- cast, clip
@converter("Cast", since=1)
def convert_cast(ctx: ConvertContext, inputs: Inputs, *, to: int | str | None = None,
                 saturate: int = 1, round_mode: str = "up") -> Node:
    # saturate and round_mode only concern float8 targets, which are unsupported anyway
    (x,) = _inputs(ctx, inputs, 1)
    if to is None:
        raise ctx.error("attribute 'to' is missing")
    return ctx.emit("cast", [x], {"dtype": onnx_dtype(ctx, to)})


@converter("CastLike", since=15)
def convert_cast_like(ctx: ConvertContext, inputs: Inputs, *, saturate: int = 1,
                      round_mode: str = "up") -> Node:
    x, like = _inputs(ctx, inputs, 2)
    return ctx.emit("cast", [x], {"dtype": like.dtype})


def _bound(x: Node, value: float | np.ndarray | None) -> float | int | None:
    if value is None:
        return None
    v = np.asarray(value).reshape(-1)[0].item()
    return int(v) if np.dtype(x.dtype).kind in "iu" else float(v)


@converter("Clip", since=1)
def convert_clip_v1(ctx: ConvertContext, inputs: Inputs, *, min: float | None = None,  # noqa: A002
                    max: float | None = None,  # noqa: A002
                    consumed_inputs: list[int] | None = None) -> Node:
    (x,) = _inputs(ctx, inputs, 1)
    return ctx.emit("clip", [x], {"min": _bound(x, min), "max": _bound(x, max)})


@converter("Clip", since=11)
def convert_clip(ctx: ConvertContext, inputs: Inputs) -> Node:
    x = inputs[0]
    if x is None:
        raise ctx.error("input is missing")
    bounds = {}
    for name, node in (("min", inputs[1]), ("max", inputs[2])):
        value = None if node is None else ctx.require_const(node, name)
        if value is not None and np.asarray(value).size != 1:
            raise ctx.error(f"{name} must be a scalar, got shape {list(np.shape(value))}")
        bounds[name] = _bound(x, value)
    return ctx.emit("clip", [x], bounds)
