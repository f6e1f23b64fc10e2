"""ONNX converters: BatchNormalization, Instance/LayerNormalization, LRN, Dropout (inference)."""

from __future__ import annotations

import numpy as np

from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node


def _bn(ctx: ConvertContext, inputs: list[Node | None], epsilon: float) -> Node:
    x, scale, bias, mean, var = inputs[:5]
    if any(i is None for i in (x, scale, bias, mean, var)):
        raise ctx.error("BatchNormalization needs X, scale, B, mean and var")
    assert x is not None and scale is not None and bias is not None
    assert mean is not None and var is not None
    if x.ttype.rank < 2:
        raise ctx.error(f"BatchNormalization input must be [N, C, ...], got {x.ttype}")
    return ctx.emit("nn.batch_norm", [x, scale, bias, mean, var], {"epsilon": epsilon, "axis": 1})


@converter("BatchNormalization", since=1)
def batch_norm_v1(ctx: ConvertContext, inputs: list[Node | None], *, epsilon: float = 1e-5,
                  momentum: float = 0.9, spatial: int = 1, is_test: int = 0,
                  consumed_inputs: list[int] | None = None) -> list[Node | None]:
    """BatchNormalization before opset 14: the inference form only.

    Training statistics (outputs 1-4) are not supported; as in onnxruntime, `is_test` does not
    change Y. `spatial=0` (per-activation statistics) is not supported.
    """
    if spatial != 1:
        raise ctx.unsupported("BatchNormalization with spatial=0 is not supported")
    return [_bn(ctx, inputs, epsilon), None, None, None, None]


@converter("BatchNormalization", since=14)
def batch_norm(ctx: ConvertContext, inputs: list[Node | None], *, epsilon: float = 1e-5,
               momentum: float = 0.9, training_mode: int = 0) -> list[Node | None]:
    """BatchNormalization -> nn.batch_norm; training_mode=1 and running stats unsupported."""
    if training_mode:
        raise ctx.unsupported("BatchNormalization with training_mode=1 is not supported "
                              "(inference only)")
    return [_bn(ctx, inputs, epsilon), None, None]


@converter("InstanceNormalization", since=1)
def instance_norm(ctx: ConvertContext, inputs: list[Node | None], *, epsilon: float = 1e-5,
                  consumed_inputs: list[int] | None = None) -> Node:
    """InstanceNormalization -> nn.instance_norm."""
    x, scale, bias = inputs[:3]
    if x is None or scale is None or bias is None:
        raise ctx.error("InstanceNormalization needs input, scale and B")
    return ctx.emit("nn.instance_norm", [x, scale, bias], {"epsilon": epsilon})


# ONNX element types a LayerNormalization may stash its statistics in; edgecc computes them
# in float32, or float64 for float64 inputs, which is at least as precise.
_STASH_TYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}


@converter("LayerNormalization", since=17)
def layer_norm(ctx: ConvertContext, inputs: list[Node | None], *, axis: int = -1,
               epsilon: float = 1e-5, stash_type: int = 1) -> list[Node | None]:
    """LayerNormalization -> nn.layer_norm, plus its Mean and InvStdDev when the node has them.

    The statistics (over axes `axis..rank-1`, kept as size-1 dims) are computed by separate
    reduce ops in the stash type; `dce` removes them when nothing reads them.
    """
    x, scale, bias = inputs[:3]
    if x is None or scale is None:
        raise ctx.error("LayerNormalization needs X and Scale")
    rank = x.ttype.rank
    if not -rank <= axis < rank:
        raise ctx.error(f"axis {axis} out of range for rank {rank}")
    if stash_type not in _STASH_TYPES:
        raise ctx.unsupported(f"stash_type {stash_type} is not supported")
    ins = [x, scale] + ([bias] if bias is not None else [])
    y = ctx.emit("nn.layer_norm", ins, {"axis": axis % rank, "epsilon": epsilon})
    if ctx.num_outputs == 1:
        return [y]
    return [y, *_layer_norm_stats(ctx, x, axis % rank, epsilon, _STASH_TYPES[stash_type])]


def _layer_norm_stats(ctx: ConvertContext, x: Node, axis: int, epsilon: float,
                      stash: str) -> list[Node]:
    """Mean and 1 / sqrt(var + epsilon) of `x` over axes `axis..`, in dtype `stash`."""
    xs = x if x.dtype == stash else ctx.emit("cast", [x], {"dtype": stash})
    axes = tuple(range(axis, x.ttype.rank))
    mean = ctx.emit("reduce.mean", [xs], {"axes": axes, "keepdims": True})
    centered = ctx.emit("sub", [xs, mean])
    var = ctx.emit("reduce.mean", [ctx.emit("mul", [centered, centered])],
                   {"axes": axes, "keepdims": True})
    eps = ctx.const(np.array(epsilon, dtype=stash))
    inv_std = ctx.emit("reciprocal", [ctx.emit("sqrt", [ctx.emit("add", [var, eps])])])
    return [mean, inv_std]


@converter("LRN", since=1)
def lrn(ctx: ConvertContext, inputs: list[Node | None], *, size: int | None = None,
        alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0) -> Node:
    """LRN -> nn.lrn."""
    assert inputs[0] is not None
    if size is None:
        raise ctx.error("LRN needs the size attribute")
    return ctx.emit("nn.lrn", [inputs[0]],
                    {"size": size, "alpha": alpha, "beta": beta, "bias": bias})


@converter("Dropout", since=1)
def dropout_v1(ctx: ConvertContext, inputs: list[Node | None], *, ratio: float = 0.5,
               is_test: int = 0, consumed_inputs: list[int] | None = None) -> list[Node | None]:
    """Dropout before opset 12 -> nn.dropout (the identity); the mask output is unsupported.

    As in onnxruntime, the node runs in inference mode whatever `is_test` says.
    """
    assert inputs[0] is not None
    # Before opset 12 the inference-mode mask is left unspecified (onnxruntime returns zeros):
    # a model that reads it is unsupported.
    return [ctx.emit("nn.dropout", [inputs[0]], {"ratio": ratio}), None]


def _keep_mask(ctx: ConvertContext, x: Node) -> Node | None:
    # In inference every element is kept: the mask output is a constant of trues.
    if ctx.num_outputs < 2:
        return None
    return ctx.const(np.ones(x.shape, dtype=bool))


@converter("Dropout", since=12)
def dropout(ctx: ConvertContext, inputs: list[Node | None], *,
            seed: int | None = None) -> list[Node | None]:
    """Dropout -> nn.dropout; training_mode must be a constant False; the mask is all true.

    A run-time `ratio` is accepted: in inference mode it does not change the output (the
    recorded ratio is then ONNX's default 0.5).
    """
    x, ratio, training = inputs[0], inputs[1], inputs[2]
    assert x is not None
    if training is not None and bool(ctx.require_const(training, "training_mode")):
        raise ctx.unsupported("Dropout with training_mode=True is not supported (inference only)")
    value = ctx.value(ratio)
    attrs = {"ratio": float(value)} if value is not None else {}
    return [ctx.emit("nn.dropout", [x], attrs), _keep_mask(ctx, x)]
