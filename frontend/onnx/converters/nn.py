"""ONNX converters: nn family (Conv, ConvTranspose, pooling, Gemm, MatMul); norms in nn_norm."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.converters import nn_norm  # noqa: F401 - registers the norm converters
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node


# ---------------------------------------------------------------------- helpers
def _ints(ctx: ConvertContext, name: str, value: Sequence[int] | None, n: int,
          default: int) -> tuple[int, ...]:
    """A per-spatial-axis attribute, defaulted and checked to have `n` entries."""
    if value is None:
        return (default,) * n
    if len(value) != n:
        raise ctx.error(f"{name} has {len(value)} entries, expected {n} (one per spatial axis)")
    return tuple(int(v) for v in value)


def _explicit_pads(ctx: ConvertContext, auto_pad: str, pads: Sequence[int] | None,
                   sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
                   dilations: Sequence[int]) -> tuple[int, ...]:
    """ONNX pads (all begins, then all ends) with `auto_pad` resolved for the static sizes."""
    n = len(sizes)
    if auto_pad in ("NOTSET", ""):
        out = _ints(ctx, "pads", pads, 2 * n, 0)
        if any(p < 0 for p in out):
            raise ctx.unsupported(f"negative pads {list(out)} are not supported")
        return out
    if auto_pad == "VALID":
        return (0,) * (2 * n)
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise ctx.error(f"unknown auto_pad {auto_pad!r}")
    begins, ends = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations):
        out_size = -(-size // s)
        total = max(0, (out_size - 1) * s + d * (k - 1) + 1 - size)
        small, large = total // 2, total - total // 2
        # SAME_UPPER puts the odd extra pixel at the end, SAME_LOWER at the beginning.
        begin, end = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
        begins.append(begin)
        ends.append(end)
    return tuple(begins + ends)


def _spatial_rank(ctx: ConvertContext, x: Node, what: str) -> int:
    """1 or 2 spatial axes are implemented; 3-D (or more) is reported as unsupported."""
    rank = x.ttype.rank
    if rank == 3:
        return 1
    if rank == 4:
        return 2
    if rank >= 5:
        raise ctx.unsupported(f"{rank - 2}-D {what} is not supported (only 1-D and 2-D)")
    raise ctx.error(f"{what} input must be [N, C, spatial...], got {x.ttype}")


def _lift_1d(ctx: ConvertContext, x: Node) -> Node:
    """[N, C, L] -> [N, C, 1, L], so 1-D ops run as 2-D ones with H = 1."""
    n, c, length = x.shape
    return ctx.emit("reshape", [x], {"newshape": (n, c, 1, length)})


def _lower_1d(ctx: ConvertContext, y: Node) -> Node:
    """[N, C, 1, L] -> [N, C, L]."""
    n, c, _, length = y.shape
    return ctx.emit("reshape", [y], {"newshape": (n, c, length)})


def _as_2d(values: tuple[int, ...], fill: int) -> tuple[int, int]:
    """A 1-D per-axis attribute as the 2-D one with H = 1 (`fill` for the H axis)."""
    return (fill, values[0]) if len(values) == 1 else (values[0], values[1])


def _pads_2d(pads: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(pads) == 2:  # (begin, end) of the only axis, which becomes W
        return (0, pads[0], 0, pads[1])
    return (pads[0], pads[1], pads[2], pads[3])


def _kernel_from_weight(ctx: ConvertContext, w: Node, kernel_shape: Sequence[int] | None,
                        n: int) -> tuple[int, ...]:
    kernel = tuple(w.shape[2:])
    if len(kernel) != n:
        raise ctx.error(f"weight {w.ttype} does not have {n} spatial axes")
    if kernel_shape is not None and tuple(kernel_shape) != kernel:
        raise ctx.error(f"kernel_shape {list(kernel_shape)} disagrees with the weight's "
                        f"{list(kernel)}")
    return kernel


# ---------------------------------------------------------------------- Conv
@converter("Conv", since=1)
def conv(ctx: ConvertContext, inputs: list[Node | None], *, auto_pad: str = "NOTSET",
         dilations: list[int] | None = None, group: int = 1,
         kernel_shape: list[int] | None = None, pads: list[int] | None = None,
         strides: list[int] | None = None) -> Node:
    """Conv -> nn.conv2d (1-D convolutions through a reshape to H = 1)."""
    x, w, b = inputs[0], inputs[1], inputs[2]
    assert x is not None and w is not None
    n = _spatial_rank(ctx, x, "convolution")
    kernel = _kernel_from_weight(ctx, w, kernel_shape, n)
    st = _ints(ctx, "strides", strides, n, 1)
    dil = _ints(ctx, "dilations", dilations, n, 1)
    pd = _explicit_pads(ctx, auto_pad, pads, x.shape[2:], kernel, st, dil)
    attrs = {"strides": _as_2d(st, 1), "dilations": _as_2d(dil, 1), "pads": _pads_2d(pd),
             "groups": group}
    if n == 1:
        oc, cg, k = w.shape
        w4 = ctx.emit("reshape", [w], {"newshape": (oc, cg, 1, k)})
        y = ctx.emit("nn.conv2d", [_lift_1d(ctx, x), w4] + ([b] if b is not None else []), attrs)
        return _lower_1d(ctx, y)
    return ctx.emit("nn.conv2d", [x, w] + ([b] if b is not None else []), attrs)


# ---------------------------------------------------------------------- ConvTranspose
# NOTE: [ConvTranspose padding] with output_shape, or auto_pad SAME_* (output = in * stride),
# the total padding per axis is stride * (in - 1) + output_padding + dilation * (k - 1) + 1
# - out. ONNX's spec and onnxruntime put the odd extra pixel at the end for SAME_UPPER and at
# the beginning otherwise (NOTSET and SAME_LOWER; output_shape wins over pads). A negative
# total (an output larger than the full one) is extra output_padding: zeros (+ bias) at the end.
def _transpose_pads(ctx: ConvertContext, auto_pad: str, pads: list[int] | None,
                    output_shape: list[int] | None, sizes: Sequence[int],
                    kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
                    output_padding: list[int]) -> tuple[int, ...]:
    """Explicit ConvTranspose pads; may grow `output_padding` in place (see the note)."""
    n = len(sizes)
    if output_shape is None and auto_pad in ("NOTSET", "", "VALID"):
        pd = (0,) * (2 * n) if auto_pad == "VALID" else _ints(ctx, "pads", pads, 2 * n, 0)
        if any(p < 0 for p in pd):
            raise ctx.unsupported(f"negative pads {list(pd)} are not supported")
        return pd
    if output_shape is None and auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise ctx.error(f"unknown auto_pad {auto_pad!r}")
    if output_shape is not None:
        if len(output_shape) < n:
            raise ctx.error(f"output_shape {output_shape} has fewer than {n} entries")
        target = [int(v) for v in output_shape[-n:]]
    else:
        target = [size * s for size, s in zip(sizes, strides)]
    begins, ends = [], []
    for i in range(n):
        full = strides[i] * (sizes[i] - 1) + dilations[i] * (kernel[i] - 1) + 1
        total = full + output_padding[i] - target[i]
        if total < 0:
            output_padding[i] -= total
            total = 0
        small, large = total // 2, total - total // 2
        begin, end = (small, large) if auto_pad == "SAME_UPPER" else (large, small)
        begins.append(begin)
        ends.append(end)
    return tuple(begins + ends)


@converter("ConvTranspose", since=1)
def conv_transpose(ctx: ConvertContext, inputs: list[Node | None], *, auto_pad: str = "NOTSET",
                   dilations: list[int] | None = None, group: int = 1,
                   kernel_shape: list[int] | None = None,
                   output_padding: list[int] | None = None,
                   output_shape: list[int] | None = None, pads: list[int] | None = None,
                   strides: list[int] | None = None) -> Node:
    """ConvTranspose -> nn.conv2d_transpose; output_shape and auto_pad become explicit pads."""
    x, w, b = inputs[0], inputs[1], inputs[2]
    assert x is not None and w is not None
    n = _spatial_rank(ctx, x, "transposed convolution")
    kernel = _kernel_from_weight(ctx, w, kernel_shape, n)
    st = _ints(ctx, "strides", strides, n, 1)
    dil = _ints(ctx, "dilations", dilations, n, 1)
    opad = list(_ints(ctx, "output_padding", output_padding, n, 0))
    pd = _transpose_pads(ctx, auto_pad, pads, output_shape, x.shape[2:], kernel, st, dil, opad)
    attrs = {"strides": _as_2d(st, 1), "dilations": _as_2d(dil, 1), "pads": _pads_2d(pd),
             "groups": group, "output_padding": _as_2d(tuple(opad), 0)}
    bias = [b] if b is not None else []
    if n == 1:
        c, ocg, k = w.shape
        w4 = ctx.emit("reshape", [w], {"newshape": (c, ocg, 1, k)})
        y = ctx.emit("nn.conv2d_transpose", [_lift_1d(ctx, x), w4] + bias, attrs)
        return _lower_1d(ctx, y)
    return ctx.emit("nn.conv2d_transpose", [x, w] + bias, attrs)


# ---------------------------------------------------------------------- pooling
def _pool(ctx: ConvertContext, op: str, x: Node, kernel_shape: list[int] | None,
          auto_pad: str, pads: list[int] | None, strides: list[int] | None,
          dilations: list[int] | None, extra: dict[str, object]) -> Node:
    n = _spatial_rank(ctx, x, "pooling")
    if kernel_shape is None:
        raise ctx.error("kernel_shape is required")
    kernel = _ints(ctx, "kernel_shape", kernel_shape, n, 1)
    st = _ints(ctx, "strides", strides, n, 1)
    dil = _ints(ctx, "dilations", dilations, n, 1)
    # NOTE: [SAME pooling with dilations] onnxruntime (and ONNX's reference evaluator) size
    # the SAME pads of a pool with the undilated kernel, unlike the spec's formula; edgecc
    # follows onnxruntime, so the output is floor((in + pads - dilated kernel) / stride) + 1.
    pd = _explicit_pads(ctx, auto_pad, pads, x.shape[2:], kernel, st, (1,) * n)
    attrs = {"kernel": _as_2d(kernel, 1), "strides": _as_2d(st, 1), "pads": _pads_2d(pd),
             **extra}
    attrs["dilations"] = _as_2d(dil, 1)
    if n == 1:
        return _lower_1d(ctx, ctx.emit(op, [_lift_1d(ctx, x)], attrs))
    return ctx.emit(op, [x], attrs)


@converter("MaxPool", since=1)
def max_pool(ctx: ConvertContext, inputs: list[Node | None], *, auto_pad: str = "NOTSET",
             ceil_mode: int = 0, dilations: list[int] | None = None,
             kernel_shape: list[int] | None = None, pads: list[int] | None = None,
             storage_order: int = 0, strides: list[int] | None = None) -> list[Node | None]:
    """MaxPool -> nn.max_pool2d; the Indices output is not supported.

    `storage_order` only changes the Indices output, so it is accepted and has no effect.
    """
    x = inputs[0]
    assert x is not None
    y = _pool(ctx, "nn.max_pool2d", x, kernel_shape, auto_pad, pads, strides, dilations,
              {"ceil_mode": bool(ceil_mode)})
    return [y, None]


@converter("AveragePool", since=1)
def average_pool(ctx: ConvertContext, inputs: list[Node | None], *, auto_pad: str = "NOTSET",
                 ceil_mode: int = 0, count_include_pad: int = 0,
                 dilations: list[int] | None = None, kernel_shape: list[int] | None = None,
                 pads: list[int] | None = None, strides: list[int] | None = None) -> Node:
    """AveragePool -> nn.avg_pool2d."""
    x = inputs[0]
    assert x is not None
    return _pool(ctx, "nn.avg_pool2d", x, kernel_shape, auto_pad, pads, strides, dilations,
                 {"ceil_mode": bool(ceil_mode), "count_include_pad": bool(count_include_pad)})


def _global_pool(ctx: ConvertContext, op: str, x: Node) -> Node:
    """Global pooling of [N, C, D1, ...]: 2-D directly, other ranks through [N, C, D, 1]."""
    shape = x.shape
    if len(shape) < 3:
        raise ctx.error(f"global pooling needs [N, C, D1, ...], got {x.ttype}")
    if len(shape) == 4:
        return ctx.emit(op, [x])
    flat = ctx.emit("reshape", [x], {"newshape": (shape[0], shape[1], int(np.prod(shape[2:])), 1)})
    y = ctx.emit(op, [flat])
    return ctx.emit("reshape", [y], {"newshape": shape[:2] + (1,) * (len(shape) - 2)})


@converter("GlobalAveragePool", since=1)
def global_average_pool(ctx: ConvertContext, inputs: list[Node | None]) -> Node:
    """GlobalAveragePool -> nn.global_avg_pool2d."""
    assert inputs[0] is not None
    return _global_pool(ctx, "nn.global_avg_pool2d", inputs[0])


@converter("GlobalMaxPool", since=1)
def global_max_pool(ctx: ConvertContext, inputs: list[Node | None]) -> Node:
    """GlobalMaxPool -> nn.global_max_pool2d."""
    assert inputs[0] is not None
    return _global_pool(ctx, "nn.global_max_pool2d", inputs[0])


# ---------------------------------------------------------------------- Gemm / MatMul
def _scalar(ctx: ConvertContext, value: float, dtype: str, what: str) -> Node:
    if not dtype.startswith("float") and float(value) != int(value):
        raise ctx.unsupported(f"{what}={value} with {dtype} operands is not supported")
    return ctx.const(np.asarray(value, dtype=dtype))


@converter("Gemm", since=1)
def gemm(ctx: ConvertContext, inputs: list[Node | None], *, alpha: float = 1.0,
         beta: float = 1.0, transA: int = 0, transB: int = 0,  # noqa: N803 - ONNX's names
         broadcast: int = 0) -> Node:
    """Gemm: alpha * A' @ B' + beta * C -> nn.dense (or nn.matmul) with mul/add.

    B' = B^T (transB=1) feeds nn.dense as is; a constant B with transB=0 is transposed into a
    dense weight; a run-time B with transB=0 uses nn.matmul. A 1-D C of [N] with alpha = beta
    = 1 becomes the dense bias. `broadcast` (opset < 7) needs no handling: `add` broadcasts.
    """
    a, b, c = inputs[0], inputs[1], inputs[2]
    assert a is not None and b is not None
    if a.ttype.rank != 2 or b.ttype.rank != 2:
        raise ctx.error(f"Gemm needs 2-D A and B, got {a.ttype} and {b.ttype}")
    if transA:
        a = ctx.emit("transpose", [a], {"axes": (1, 0)})
    n_out = b.shape[0] if transB else b.shape[1]
    use_c = c is not None and beta != 0.0
    bias_in_dense = (use_c and alpha == 1.0 and beta == 1.0 and c is not None
                     and c.shape == (n_out,) and (transB or ctx.value(b) is not None))
    bias = [c] if bias_in_dense and c is not None else []
    if transB:
        y = ctx.emit("nn.dense", [a, b] + bias)
    elif ctx.value(b) is not None:
        y = ctx.emit("nn.dense", [a, ctx.emit("transpose", [b], {"axes": (1, 0)})] + bias)
    else:
        y = ctx.emit("nn.matmul", [a, b])
    if alpha != 1.0:
        y = ctx.emit("mul", [y, _scalar(ctx, alpha, y.dtype, "alpha")])
    if use_c and not bias_in_dense and c is not None:
        if beta != 1.0:
            c = ctx.emit("mul", [c, _scalar(ctx, beta, c.dtype, "beta")])
        y = ctx.emit("add", [y, c])
    return y


@converter("MatMul", since=1)
def matmul(ctx: ConvertContext, inputs: list[Node | None]) -> Node:
    """MatMul -> nn.matmul (numpy.matmul semantics, integer types included)."""
    a, b = inputs[0], inputs[1]
    assert a is not None and b is not None
    return ctx.emit("nn.matmul", [a, b])
