"""ONNX converters: Reduce* (axes as attribute, later as constant input), ArgMax, ArgMin."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node

Inputs = list[Node | None]

# ONNX op -> (IR op, opset where `axes` became an input)
_REDUCE = {
    "ReduceSum": ("reduce.sum", 13),
    "ReduceMean": ("reduce.mean", 18),
    "ReduceMax": ("reduce.max", 18),
    "ReduceMin": ("reduce.min", 18),
    "ReduceProd": ("reduce.prod", 18),
    "ReduceL1": ("reduce.l1", 18),
    "ReduceL2": ("reduce.l2", 18),
    "ReduceSumSquare": ("reduce.sum_square", 18),
    "ReduceLogSumExp": ("reduce.log_sum_exp", 18),
}


def _x(ctx: ConvertContext, inputs: Inputs) -> Node:
    if not inputs or inputs[0] is None:
        raise ctx.error("input is missing")
    return inputs[0]


def _normalize(ctx: ConvertContext, axes: Sequence[int], rank: int) -> tuple[int, ...]:
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ctx.error(f"axis {a} out of range for rank {rank}")
        out.append(int(a) % rank)
    if len(set(out)) != len(out):
        raise ctx.error(f"repeated axis in {list(axes)}")
    return tuple(sorted(out))


def _no_reduction(ctx: ConvertContext, ir_op: str, x: Node) -> Node:
    """`noop_with_empty_axes` with no axes: only the op's elementwise steps remain."""
    if ir_op in ("reduce.l1", "reduce.l2"):
        return ctx.emit("abs", [x])  # sqrt(x^2) = |x|
    if ir_op == "reduce.sum_square":
        return ctx.emit("mul", [x, x])
    return ctx.emit("identity", [x])  # log(exp(x)) = x for log_sum_exp


def _register_reduce(onnx_op: str, ir_op: str, input_since: int) -> None:
    @converter(onnx_op, since=1)
    def convert_attr(ctx: ConvertContext, inputs: Inputs, *, axes: list[int] | None = None,
                     keepdims: int = 1) -> Node:
        x = _x(ctx, inputs)
        norm = _normalize(ctx, axes, len(x.shape)) if axes else None  # empty: all axes
        return ctx.emit(ir_op, [x], {"axes": norm, "keepdims": bool(keepdims)})

    @converter(onnx_op, since=input_since)
    def convert_input(ctx: ConvertContext, inputs: Inputs, *, keepdims: int = 1,
                      noop_with_empty_axes: int = 0) -> Node:
        x = _x(ctx, inputs)
        axes = inputs[1] if len(inputs) > 1 else None
        values = [] if axes is None else np.asarray(ctx.require_const(axes, "axes")).reshape(-1)
        if len(values) == 0:
            if noop_with_empty_axes:
                return _no_reduction(ctx, ir_op, x)
            return ctx.emit(ir_op, [x], {"axes": None, "keepdims": bool(keepdims)})
        norm = _normalize(ctx, [int(v) for v in values], len(x.shape))
        return ctx.emit(ir_op, [x], {"axes": norm, "keepdims": bool(keepdims)})


for _onnx, (_ir, _since) in _REDUCE.items():
    _register_reduce(_onnx, _ir, _since)


def _register_arg(onnx_op: str, ir_op: str) -> None:
    @converter(onnx_op, since=1)
    def convert(ctx: ConvertContext, inputs: Inputs, *, axis: int = 0, keepdims: int = 1,
                select_last_index: int = 0) -> Node:
        x = _x(ctx, inputs)
        (norm,) = _normalize(ctx, [axis], len(x.shape))
        return ctx.emit(ir_op, [x], {"axis": norm, "keepdims": bool(keepdims),
                                     "select_last_index": bool(select_last_index)})


_register_arg("ArgMax", "argmax")
_register_arg("ArgMin", "argmin")
