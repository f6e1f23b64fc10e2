"""TE compute rules: convolution, transposed convolution, dense, matmul, dropout.

Pooling and normalization rules live in `nn_pool_norm` (imported at the bottom).

Multiply-accumulates run in `acc_dtype` (float32 for half floats, int32 for narrow integers)
and the result, bias included, is cast back to the op's dtype, as the references do.
"""

from __future__ import annotations

from typing import Any

from tvm import te, tirx, topi

from edgecc.codegen.compute.common import acc_dtype, bcast_index, cast, const, dt, shape_of
from edgecc.codegen.compute.registry import register_compute
from edgecc.errors import UnsupportedError


def _check_layout(op: str, layout: str) -> None:
    if layout != "NCHW":
        raise UnsupportedError(f"{op} codegen for layout {layout} is not implemented (NCHW only)")


def _bias_cast(y: Any, b: Any | None, dtype: str, channel_axis: int, name: str) -> Any:
    """y (+ b along `channel_axis`), cast to `dtype`; y itself when there is nothing to do."""
    acc = dt(y)
    if b is None and acc == dtype:
        return y
    if b is None:
        return te.compute(y.shape, lambda *i: cast(y(*i), dtype), name=f"{name}_cast")
    axis = channel_axis % len(y.shape)
    return te.compute(y.shape, lambda *i: cast(y(*i) + cast(b[i[axis]], acc), dtype),
                      name=f"{name}_bias")


# --------------------------------------------------------------------------- conv2d
@register_compute("nn.conv2d")
def _conv2d(x: Any, w: Any, b: Any = None, *, out_type: Any, strides: tuple[int, int],
            pads: tuple[int, int, int, int], dilations: tuple[int, int], groups: int,
            layout: str, kernel_layout: str = "OIHW") -> Any:
    # TOPI's NCHW convolutions take ONNX's (top, left, bottom, right) pads and an OIHW weight,
    # and cast both operands to out_dtype before multiplying (checked against the reference).
    # Blocked kernel layouts have their own rule (conv_blocked), registered as a variant.
    _check_layout("nn.conv2d", layout)
    if kernel_layout != "OIHW":
        raise UnsupportedError(f"nn.conv2d: the generic rule takes OIHW weights, not "
                               f"kernel_layout {kernel_layout}")
    dtype = dt(x)
    acc = acc_dtype(dtype)
    c = int(x.shape[1])
    if groups == 1:
        y = topi.nn.conv2d_nchw(x, w, strides, pads, dilations, out_dtype=acc)
    elif groups == c and int(w.shape[1]) == 1:
        # IR weight [C*m, 1, kh, kw] is TOPI's depthwise filter [C, m, kh, kw] in the same order
        mult = int(w.shape[0]) // c
        filt = w if mult == 1 else topi.reshape(w, (c, mult, int(w.shape[2]), int(w.shape[3])))
        y = topi.nn.depthwise_conv2d_nchw(x, filt, strides, pads, dilations, acc)
    else:
        y = topi.nn.group_conv2d_nchw(x, w, strides, pads, dilations, groups, acc)
    return _bias_cast(y, b, dtype, 1, "conv2d")


# --------------------------------------------------------------------------- conv2d_transpose
@register_compute("nn.conv2d_transpose")
def _conv2d_transpose(x: Any, w: Any, b: Any = None, *, out_type: Any,
                      strides: tuple[int, int], pads: tuple[int, int, int, int],
                      dilations: tuple[int, int], groups: int,
                      output_padding: tuple[int, int], layout: str) -> Any:
    # NOTE: [conv2d_transpose] handwritten: topi.nn.conv2d_transpose_nchw has no dilation and
    # asserts output_padding < stride, which the IR's type rule does not require. Same
    # structure as TOPI's: an upsampled, padded input (inlined by the schedule) convolved with
    # the flipped IOHW kernel.
    _check_layout("nn.conv2d_transpose", layout)
    dtype = dt(x)
    acc = acc_dtype(dtype)
    n, c, h, wd = shape_of(x)
    _, ocg, kh, kw = shape_of(w)
    _, oc, oh, ow = tuple(out_type.shape)
    sh, sw = strides
    dh, dw = dilations
    cg = c // groups
    # xu[u] = x[(u - off) / s] where that is a whole, in-range index, else 0
    off_h = (kh - 1) * dh - pads[0]
    off_w = (kw - 1) * dw - pads[1]
    ph, pw = oh + (kh - 1) * dh, ow + (kw - 1) * dw
    zero = const(0, dtype)

    def upsampled(nn: Any, cc: Any, u: Any, v: Any) -> Any:
        p, q = u - off_h, v - off_w
        ih, iw = tirx.floordiv(p, sh), tirx.floordiv(q, sw)
        ok = tirx.all(p >= 0, q >= 0, tirx.floormod(p, sh) == 0, tirx.floormod(q, sw) == 0,
                      ih < h, iw < wd)
        return tirx.if_then_else(ok, x[nn, cc, ih, iw], zero)

    xu = te.compute((n, c, ph, pw), upsampled, name="data_upsampled")
    ci = te.reduce_axis((0, cg), name="ci")
    r = te.reduce_axis((0, kh), name="r")
    s = te.reduce_axis((0, kw), name="s")

    def body(nn: Any, o: Any, i: Any, j: Any) -> Any:
        cin = tirx.floordiv(o, ocg) * cg + ci
        return te.sum(cast(xu[nn, cin, i + (kh - 1 - r) * dh, j + (kw - 1 - s) * dw], acc)
                      * cast(w[cin, tirx.floormod(o, ocg), r, s], acc), axis=[ci, r, s])

    y = te.compute((n, oc, oh, ow), body, name="conv2d_transpose_nchw")
    return _bias_cast(y, b, dtype, 1, "conv2d_transpose")


# --------------------------------------------------------------------------- dense / matmul
@register_compute("nn.dense")
def _dense(x: Any, w: Any, b: Any = None, *, out_type: Any, weight_layout: str = "NK") -> Any:
    # x [..., K] (any rank; topi.nn.dense takes 2-D only) times w [N, K]^T. Packed weight
    # layouts have their own rule (dense_packed), registered as a variant.
    if weight_layout != "NK":
        raise UnsupportedError(f"nn.dense: the generic rule takes [N, K] weights, not "
                               f"weight_layout {weight_layout}")
    dtype = dt(x)
    acc = acc_dtype(dtype)
    k = te.reduce_axis((0, int(x.shape[-1])), name="k")
    lead = len(x.shape) - 1
    y = te.compute(tuple(out_type.shape),
                   lambda *i: te.sum(cast(x[(*i[:lead], k)], acc) * cast(w[i[lead], k], acc),
                                     axis=k), name="dense")
    return _bias_cast(y, b, dtype, -1, "dense")


@register_compute("nn.matmul")
def _matmul(a: Any, b: Any, *, out_type: Any) -> Any:
    # numpy.matmul: broadcast batch dims, 1-D operands promoted and their axis dropped
    dtype = dt(a)
    acc = acc_dtype(dtype)
    sa, sb = shape_of(a), shape_of(b)
    out_shape = tuple(out_type.shape)
    ra, rb = len(sa), len(sb)
    kdim = sa[-1]
    nb = len(out_shape) - (ra > 1) - (rb > 1)
    k = te.reduce_axis((0, kdim), name="k")

    def body(*i: Any) -> Any:
        batch = i[:nb]
        rest = i[nb:]
        m = rest[0] if ra > 1 else None
        nn = rest[-1] if rb > 1 else None
        if ra > 1:
            a_batch = bcast_index(_Shaped(sa[:-2]), nb, batch)
            a_idx = (*a_batch, m, k)
        else:
            a_idx = (k,)
        if rb > 1:
            b_batch = bcast_index(_Shaped(sb[:-2]), nb, batch)
            b_idx = (*b_batch, k, nn)
        else:
            b_idx = (k,)
        return te.sum(cast(a(*a_idx), acc) * cast(b(*b_idx), acc), axis=k)

    y = te.compute(out_shape, body, name="matmul")
    return _bias_cast(y, None, dtype, -1, "matmul")


class _Shaped:
    """A stand-in with a `.shape`, for broadcasting a tensor's leading (batch) dims."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape


# --------------------------------------------------------------------------- dropout
@register_compute("nn.dropout")
def _dropout(x: Any, *, out_type: Any, ratio: float) -> Any:
    return x  # inference: the identity


from edgecc.codegen.compute import nn_pool_norm as _nn_pool_norm  # noqa: E402,F401
