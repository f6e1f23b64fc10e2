"""TE compute rules: nn.conv2d with blocked weights (kernel_layout `OIHW{i}i{o}o`), NCHW[x]c.

The kernel keeps an NCHW interface and works blocked inside, in four named stages that the x86
template (`edgecc.schedules.x86.conv2d`) looks up by name:

* `data_pack`   [N, C/i, HP, WP, i]: the input, zero-padded and blocked by the weight's input
  block i (depthwise: by its channel block o); HP, WP cover only the rows and columns the
  windows read, so a stride that skips the last input rows does not pack them;
* `conv_nchwc`  [N, OC/o, OH, OW, o]: the convolution, reducing over (ic_outer, kh, kw,
  ic_inner) in that order (depthwise: (kh, kw));
* `conv_unpack` [N, OC, OH, OW]: out[n, c, h, w] = conv_nchwc[n, c // o, h, w, c % o] (+ b[c]).

Multiply-accumulates run in `acc_dtype` and the result is cast back, as in the generic rule.
"""

from __future__ import annotations

from typing import Any

from tvm import te, tirx

from edgecc.codegen.compute.common import acc_dtype, cast, const, dt, shape_of
from edgecc.codegen.compute.registry import register_compute
from edgecc.errors import CodegenError
from edgecc.ops.nn_conv import kernel_blocks

DATA_PACK = "data_pack"
CONV = "conv_nchwc"
UNPACK = "conv_unpack"


def is_depthwise(channels: int, out_channels: int, groups: int, channels_per_group: int) -> bool:
    """One input channel per group and one output channel per input channel."""
    return groups > 1 and groups == channels == out_channels and channels_per_group == 1


def _pack(x: Any, block: int, span: tuple[int, int], pads: tuple[int, int, int, int]) -> Any:
    """x [N, C, H, W] -> [N, C/block, span_h, span_w, block], shifted by the top/left pads and
    zero outside the input."""
    n, c, h, wd = shape_of(x)
    pt, pl = pads[0], pads[1]
    hp, wp = span
    zero = const(0, dt(x))

    def body(nn: Any, cb: Any, y: Any, xx: Any, ci: Any) -> Any:
        value = x[nn, cb * block + ci, y - pt, xx - pl]
        conds = []
        if pt > 0:
            conds.append(y >= pt)
        if hp - pt > h:
            conds.append(y < h + pt)
        if pl > 0:
            conds.append(xx >= pl)
        if wp - pl > wd:
            conds.append(xx < wd + pl)
        if not conds:
            return value
        return tirx.if_then_else(tirx.all(*conds), value, zero)

    return te.compute((n, c // block, hp, wp, block), body, name=DATA_PACK)


@register_compute("nn.conv2d", when=lambda kernel_layout="OIHW", **_: kernel_layout != "OIHW")
def conv2d_blocked(x: Any, w: Any, b: Any = None, *, out_type: Any, strides: tuple[int, int],
                   pads: tuple[int, int, int, int], dilations: tuple[int, int], groups: int,
                   layout: str, kernel_layout: str) -> Any:
    """nn.conv2d with weights [OC/o, C/groups/i, KH, KW, i, o], NCHW in and out."""
    if layout != "NCHW":
        raise CodegenError(f"nn.conv2d: blocked kernels take NCHW data, not {layout}")
    blocks = kernel_blocks(kernel_layout)
    assert blocks is not None
    ib, ob = blocks
    dtype = dt(x)
    acc = acc_dtype(dtype)
    n, c, _, _ = shape_of(x)
    ocb, cgb, kh, kw = shape_of(w)[:4]
    oc, cg = ocb * ob, cgb * ib
    _, _, oh, ow = (int(d) for d in out_type.shape)
    sh, sw = strides
    dh, dw = dilations
    span = ((oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1)
    rkh = te.reduce_axis((0, kh), name="kh")
    rkw = te.reduce_axis((0, kw), name="kw")
    if is_depthwise(c, oc, groups, cg):
        data = _pack(x, ob, span, pads)

        def dw_body(nn: Any, co: Any, y: Any, xx: Any, oi: Any) -> Any:
            pix = data[nn, co, y * sh + rkh * dh, xx * sw + rkw * dw, oi]
            return te.sum(cast(pix, acc) * cast(w[co, 0, rkh, rkw, 0, oi], acc),
                          axis=[rkh, rkw])

        conv = te.compute((n, ocb, oh, ow, ob), dw_body, name=CONV)
    else:
        data = _pack(x, ib, span, pads)
        ric = te.reduce_axis((0, cgb), name="ic_outer")
        rii = te.reduce_axis((0, ib), name="ic_inner")
        blocks_per_group = ocb // groups  # output-channel blocks of one group

        def body(nn: Any, co: Any, y: Any, xx: Any, oi: Any) -> Any:
            cb = ric if groups == 1 else (co // blocks_per_group) * cgb + ric
            pix = data[nn, cb, y * sh + rkh * dh, xx * sw + rkw * dw, rii]
            return te.sum(cast(pix, acc) * cast(w[co, ric, rkh, rkw, rii, oi], acc),
                          axis=[ric, rkh, rkw, rii])

        conv = te.compute((n, ocb, oh, ow, ob), body, name=CONV)

    def unpack(nn: Any, cc: Any, y: Any, xx: Any) -> Any:
        value = conv[nn, cc // ob, y, xx, cc % ob]
        if b is not None:
            value = value + cast(b[cc], acc)
        return cast(value, dtype)

    return te.compute((n, oc, oh, ow), unpack, name=UNPACK)
