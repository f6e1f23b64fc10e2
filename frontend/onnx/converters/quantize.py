"""ONNX converters: QuantizeLinear and DequantizeLinear (per tensor and per axis)."""

from __future__ import annotations

import numpy as np

from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.converters.elementwise import onnx_dtype
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node
from edgecc.ops.quantize import QUANT_DTYPES

Inputs = list[Node | None]

_QUANTIZED = QUANT_DTYPES[:4]  # what QuantizeLinear may produce; int32 only dequantizes


def _operands(ctx: ConvertContext, inputs: Inputs) -> tuple[Node, Node, Node | None]:
    x, scale, zero_point = (list(inputs) + [None] * 3)[:3]
    if x is None or scale is None:
        raise ctx.error("x and scale are required")
    if len(scale.shape) > 1:
        raise ctx.unsupported(f"blocked quantization (scale of shape {list(scale.shape)}) is "
                              "not supported")
    return x, scale, zero_point


def _axis(ctx: ConvertContext, x: Node, scale: Node, axis: int) -> int:
    rank = len(x.shape)
    if rank == 0 or (int(np.prod(scale.shape)) == 1 and len(scale.shape) <= 1):
        return 1  # per tensor: the axis is unused, keep the default
    if not -rank <= axis < rank:
        raise ctx.error(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _quantize(ctx: ConvertContext, inputs: Inputs, axis: int, output_dtype: int,
              block_size: int, precision: int) -> Node:
    if block_size:
        raise ctx.unsupported(f"blocked quantization (block_size={block_size}) is not supported")
    x, scale, zero_point = _operands(ctx, inputs)
    if zero_point is not None:
        out = zero_point.dtype
        if output_dtype and onnx_dtype(ctx, output_dtype) != out:
            raise ctx.error(f"output_dtype {onnx_dtype(ctx, output_dtype)} differs from the "
                            f"zero point's {out}")
    else:
        out = onnx_dtype(ctx, output_dtype) if output_dtype else "uint8"
    if out not in _QUANTIZED:
        raise ctx.unsupported(f"quantizing to {out} is not supported (only "
                              f"{', '.join(_QUANTIZED)})")
    if zero_point is None:
        zero_point = ctx.const(np.zeros(scale.shape, dtype=out))
    if precision:
        scale = ctx.emit("cast", [scale], {"dtype": onnx_dtype(ctx, precision)})
    return ctx.emit("qnn.quantize", [x, scale, zero_point],
                    {"axis": _axis(ctx, x, scale, axis), "out_dtype": out})


@converter("QuantizeLinear", since=10)
def convert_quantize_v10(ctx: ConvertContext, inputs: Inputs) -> Node:
    return _quantize(ctx, inputs, 1, 0, 0, 0)


@converter("QuantizeLinear", since=13)
def convert_quantize(ctx: ConvertContext, inputs: Inputs, *, axis: int = 1, saturate: int = 1,
                     block_size: int = 0, output_dtype: int = 0, precision: int = 0) -> Node:
    # saturate only concerns float8 outputs, which are unsupported
    return _quantize(ctx, inputs, axis, output_dtype, block_size, precision)


def _dequantize(ctx: ConvertContext, inputs: Inputs, axis: int, block_size: int,
                output_dtype: int) -> Node:
    if block_size:
        raise ctx.unsupported(f"blocked quantization (block_size={block_size}) is not supported")
    x, scale, zero_point = _operands(ctx, inputs)
    if x.dtype not in QUANT_DTYPES:
        raise ctx.unsupported(f"dequantizing {x.dtype} is not supported (only "
                              f"{', '.join(QUANT_DTYPES)})")
    if zero_point is None:
        zero_point = ctx.const(np.zeros(scale.shape, dtype=x.dtype))
    if output_dtype and onnx_dtype(ctx, output_dtype) != scale.dtype:
        # the output dtype sets the precision of the product: compute in it
        scale = ctx.emit("cast", [scale], {"dtype": onnx_dtype(ctx, output_dtype)})
    return ctx.emit("qnn.dequantize", [x, scale, zero_point],
                    {"axis": _axis(ctx, x, scale, axis)})


@converter("DequantizeLinear", since=10)
def convert_dequantize_v10(ctx: ConvertContext, inputs: Inputs) -> Node:
    return _dequantize(ctx, inputs, 1, 0, 0)


@converter("DequantizeLinear", since=13)
def convert_dequantize(ctx: ConvertContext, inputs: Inputs, *, axis: int = 1,
                       block_size: int = 0, output_dtype: int = 0) -> Node:
    return _dequantize(ctx, inputs, axis, block_size, output_dtype)
