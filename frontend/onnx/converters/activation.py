"""ONNX converters: activation functions, Softmax and LogSoftmax."""

from __future__ import annotations

from math import prod

from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.converters.elementwise import reshape_to
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node
from edgecc.ops.activation import SELU_ALPHA, SELU_GAMMA

Inputs = list[Node | None]


def _x(ctx: ConvertContext, inputs: Inputs) -> Node:
    if not inputs or inputs[0] is None:
        raise ctx.error("input is missing")
    return inputs[0]


def _register_plain(onnx_op: str, ir_op: str, since: int) -> None:
    @converter(onnx_op, since=since)
    def convert(ctx: ConvertContext, inputs: Inputs, *,
                consumed_inputs: list[int] | None = None) -> Node:
        return ctx.emit(ir_op, [_x(ctx, inputs)])


for _onnx, (_ir, _since) in {"Relu": ("nn.relu", 1), "Softplus": ("nn.softplus", 1),
                             "Softsign": ("nn.softsign", 1), "HardSwish": ("nn.hard_swish", 14),
                             "Mish": ("nn.mish", 18)}.items():
    _register_plain(_onnx, _ir, _since)


@converter("LeakyRelu", since=1)
def convert_leaky_relu(ctx: ConvertContext, inputs: Inputs, *, alpha: float = 0.01,
                       consumed_inputs: list[int] | None = None) -> Node:
    return ctx.emit("nn.leaky_relu", [_x(ctx, inputs)], {"alpha": alpha})


@converter("Elu", since=1)
def convert_elu(ctx: ConvertContext, inputs: Inputs, *, alpha: float = 1.0,
                consumed_inputs: list[int] | None = None) -> Node:
    return ctx.emit("nn.elu", [_x(ctx, inputs)], {"alpha": alpha})


@converter("Celu", since=12)
def convert_celu(ctx: ConvertContext, inputs: Inputs, *, alpha: float = 1.0) -> Node:
    return ctx.emit("nn.celu", [_x(ctx, inputs)], {"alpha": alpha})


@converter("Selu", since=1)
def convert_selu(ctx: ConvertContext, inputs: Inputs, *, alpha: float = SELU_ALPHA,
                 gamma: float = SELU_GAMMA, consumed_inputs: list[int] | None = None) -> Node:
    return ctx.emit("nn.selu", [_x(ctx, inputs)], {"alpha": alpha, "gamma": gamma})


@converter("HardSigmoid", since=1)
def convert_hard_sigmoid(ctx: ConvertContext, inputs: Inputs, *, alpha: float = 0.2,
                         beta: float = 0.5, consumed_inputs: list[int] | None = None) -> Node:
    return ctx.emit("nn.hard_sigmoid", [_x(ctx, inputs)], {"alpha": alpha, "beta": beta})


@converter("Gelu", since=20)
def convert_gelu(ctx: ConvertContext, inputs: Inputs, *, approximate: str = "none") -> Node:
    if approximate not in ("none", "tanh"):
        raise ctx.error(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return ctx.emit("nn.gelu", [_x(ctx, inputs)], {"approximate": approximate})


@converter("PRelu", since=1)
def convert_prelu_v1(ctx: ConvertContext, inputs: Inputs, *,
                     consumed_inputs: list[int] | None = None) -> Node:
    # Before opset 7 a 1-D slope holds one value per channel (axis 1), not per last axis.
    x, slope = _x(ctx, inputs), inputs[1]
    if slope is None:
        raise ctx.error("slope is missing")
    if len(slope.shape) == 1 and len(x.shape) > 2 and slope.shape[0] == x.shape[1] > 1:
        slope = reshape_to(ctx, slope, (x.shape[1],) + (1,) * (len(x.shape) - 2))
    return ctx.emit("nn.prelu", [x, slope])


@converter("PRelu", since=7)
def convert_prelu(ctx: ConvertContext, inputs: Inputs) -> Node:
    if inputs[1] is None:
        raise ctx.error("slope is missing")
    return ctx.emit("nn.prelu", [_x(ctx, inputs), inputs[1]])


# ---------------------------------------------------------------------- softmax
def _axis(ctx: ConvertContext, x: Node, axis: int) -> int:
    rank = len(x.shape)
    if not -rank <= axis < rank:
        raise ctx.error(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _softmax_2d(ctx: ConvertContext, ir_op: str, x: Node, axis: int) -> Node:
    """Opset < 13: x coerced to 2-D [prod(dims before axis), prod(dims from axis)]."""
    if len(x.shape) == 0:
        raise ctx.error("input must have rank >= 1")
    axis = _axis(ctx, x, axis)
    if axis == len(x.shape) - 1:
        return ctx.emit(ir_op, [x], {"axis": axis})
    flat = reshape_to(ctx, x, (prod(x.shape[:axis]), prod(x.shape[axis:])))
    out = ctx.emit(ir_op, [flat], {"axis": 1})
    return reshape_to(ctx, out, x.shape)


def _register_softmax(onnx_op: str, ir_op: str) -> None:
    @converter(onnx_op, since=1)
    def convert_v1(ctx: ConvertContext, inputs: Inputs, *, axis: int = 1) -> Node:
        return _softmax_2d(ctx, ir_op, _x(ctx, inputs), axis)

    @converter(onnx_op, since=13)
    def convert(ctx: ConvertContext, inputs: Inputs, *, axis: int = -1) -> Node:
        x = _x(ctx, inputs)
        return ctx.emit(ir_op, [x], {"axis": _axis(ctx, x, axis)})


_register_softmax("Softmax", "nn.softmax")
_register_softmax("LogSoftmax", "nn.log_softmax")
