"""TE compute rules: convolution, dense, matmul, pooling, normalization."""

from __future__ import annotations

from typing import Any

from tvm import te, topi

from edgecc.codegen.compute.registry import register_compute
from edgecc.errors import UnsupportedError


@register_compute("nn.conv2d")
def _conv2d(x: Any, w: Any, b: Any = None, *, out_type: Any, strides: tuple[int, int],
            pads: tuple[int, int, int, int], dilations: tuple[int, int], groups: int,
            layout: str) -> Any:
    if layout != "NCHW":
        raise UnsupportedError(f"nn.conv2d codegen for layout {layout} is not implemented")
    out_dtype = str(out_type.dtype)
    if groups == 1:
        y = topi.nn.conv2d_nchw(x, w, strides, pads, dilations, out_dtype=out_dtype)
    elif groups == int(x.shape[1]) and int(w.shape[1]) == 1:
        # IR weight [C*m, 1, kh, kw] is TOPI's depthwise filter [C, m, kh, kw] in the same order
        c, mult = int(x.shape[1]), int(w.shape[0]) // int(x.shape[1])
        filt = w if mult == 1 else topi.reshape(w, (c, mult, w.shape[2], w.shape[3]))
        y = topi.nn.depthwise_conv2d_nchw(x, filt, strides, pads, dilations, out_dtype)
    else:
        y = topi.nn.group_conv2d_nchw(x, w, strides, pads, dilations, groups, out_dtype)
    if b is not None:
        y = te.compute(y.shape, lambda n, c, h, ww: y[n, c, h, ww] + b[c], name="bias_add")
    return y


@register_compute("nn.dense")
def _dense(x: Any, w: Any, b: Any = None, *, out_type: Any) -> Any:
    k = te.reduce_axis((0, x.shape[-1]), name="k")
    lead = len(x.shape) - 1
    y = te.compute(tuple(out_type.shape),
                   lambda *i: te.sum(x[(*i[:lead], k)] * w[i[lead], k], axis=k), name="dense")
    if b is not None:
        y = te.compute(y.shape, lambda *i: y(*i) + b[i[-1]], name="bias_add")
    return y
