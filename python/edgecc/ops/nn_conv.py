"""Ops: 2-D convolution and transposed convolution (NCHW), with their window arithmetic."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError, UnsupportedError
from edgecc.ir.types import TensorType, Type
from edgecc.ops.registry import OpPattern, register_macs, register_op, register_ref

# Im2col buffers are built a band of output rows at a time so that VGG-sized layers stay within
# this many elements of scratch memory.
_COLS_BUDGET = 1 << 23

_CONV_ATTRS = {
    "strides": (1, 1),
    "pads": (0, 0, 0, 0),
    "dilations": (1, 1),
    "groups": 1,
    "layout": "NCHW",
}


# ---------------------------------------------------------------------- shared checks
def check_layout(op: str, x: TensorType, layout: str) -> str | None:
    """Check an NCHW-only op's layout attribute against its input; returns the output layout.

    Raises:
        UnsupportedError: a layout other than NCHW.
        TypeInferenceError: an input whose layout disagrees with the attribute.
    """
    if layout != "NCHW":
        raise UnsupportedError(f"{op}: layout {layout!r} is not implemented (only NCHW)")
    if x.rank != 4:
        raise TypeInferenceError(f"{op}: input must be 4-D NCHW, got {x}")
    if x.layout is not None and x.layout != layout:
        raise TypeInferenceError(f"{op}: input layout {x.layout} does not match layout={layout}")
    return x.layout


def check_ints(op: str, name: str, value: Sequence[int], n: int, minimum: int) -> None:
    """Check that an attribute is `n` integers, each at least `minimum`."""
    if len(value) != n or any(not isinstance(v, int) or v < minimum for v in value):
        raise TypeInferenceError(f"{op}: {name} must be {n} integers >= {minimum}, got {value}")


def check_same_dtype(op: str, *types: TensorType | None) -> str:
    """All given (non-None) types share one dtype; returns it."""
    given = [t for t in types if t is not None]
    dtypes = {t.dtype for t in given}
    if len(dtypes) != 1:
        shown = ", ".join(str(t) for t in given)
        raise TypeInferenceError(f"{op}: inputs must share one dtype, got {shown}")
    return given[0].dtype


def window_out_size(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
                    dilation: int = 1, ceil_mode: bool = False) -> int:
    """Number of sliding-window positions along one axis (ONNX's Conv/Pool rule).

    With `ceil_mode`, a last partial window is kept only when it starts inside the input or the
    leading pad (onnxruntime's rule), never when it would start in the trailing pad.
    """
    span = size + pad_begin + pad_end - (dilation * (kernel - 1) + 1)
    if span < 0:
        raise TypeInferenceError(
            f"window of {kernel} (dilation {dilation}) does not fit an axis of {size} padded "
            f"by ({pad_begin}, {pad_end})")
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a reference computes in: float16 is widened to float32."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def windows(xp: np.ndarray, kernel: tuple[int, int], out: tuple[int, int],
            strides: tuple[int, int], dilations: tuple[int, int]) -> np.ndarray:
    """A read-only strided view [N, C, KH, KW, OH, OW] of a padded NCHW array's windows."""
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp,
        shape=(n, c, kernel[0], kernel[1], out[0], out[1]),
        strides=(sn, sc, sh * dilations[0], sw * dilations[1], sh * strides[0], sw * strides[1]),
        writeable=False,
    )


# ---------------------------------------------------------------------- conv2d
_BLOCKED_KERNEL = re.compile(r"OIHW([1-9][0-9]*)i([1-9][0-9]*)o")


def kernel_blocks(kernel_layout: str) -> tuple[int, int] | None:
    """(i, o) of a blocked kernel layout `OIHW{i}i{o}o`; None for plain `OIHW`.

    Raises:
        UnsupportedError: any other layout string.
    """
    if kernel_layout == "OIHW":
        return None
    m = _BLOCKED_KERNEL.fullmatch(kernel_layout)
    if m is None:
        raise UnsupportedError(f"nn.conv2d: kernel_layout {kernel_layout!r} is not OIHW or "
                               "OIHW{i}i{o}o")
    return int(m.group(1)), int(m.group(2))


def blocked_kernel_layout(ic_block: int, oc_block: int) -> str:
    """The kernel_layout string of weights blocked by `ic_block` inputs, `oc_block` outputs."""
    return f"OIHW{ic_block}i{oc_block}o"


def pack_kernel(w: np.ndarray, ic_block: int, oc_block: int) -> np.ndarray:
    """OIHW weights [OC, I, KH, KW] -> [OC/o, I/i, KH, KW, i, o] (a contiguous copy)."""
    oc, cg, kh, kw = w.shape
    if oc % oc_block or cg % ic_block:
        raise ValueError(f"weights {w.shape} do not split into blocks of {ic_block}i{oc_block}o")
    blocked = w.reshape(oc // oc_block, oc_block, cg // ic_block, ic_block, kh, kw)
    return np.ascontiguousarray(blocked.transpose(0, 2, 4, 5, 3, 1))


def unpack_kernel(w: np.ndarray) -> np.ndarray:
    """[OC/o, I/i, KH, KW, i, o] -> OIHW [OC, I, KH, KW] (the inverse of `pack_kernel`)."""
    ocb, cgb, kh, kw, ib, ob = w.shape
    return w.transpose(0, 5, 1, 4, 2, 3).reshape(ocb * ob, cgb * ib, kh, kw)


def kernel_oihw_shape(op: str, w: TensorType, kernel_layout: str) -> tuple[int, int, int, int]:
    """(OC, C/groups, KH, KW) of a weight in `kernel_layout`, checked against its rank/blocks."""
    blocks = kernel_blocks(kernel_layout)
    if blocks is None:
        if w.rank != 4:
            raise TypeInferenceError(f"{op}: weight must be 4-D OIHW, got {w}")
        return w.shape  # type: ignore[return-value]
    ib, ob = blocks
    if w.rank != 6 or w.shape[4] != ib or w.shape[5] != ob:
        raise TypeInferenceError(
            f"{op}: weight {w} does not have kernel_layout {kernel_layout} "
            f"([OC/{ob}, C/groups/{ib}, KH, KW, {ib}, {ob}])")
    ocb, cgb, kh, kw = w.shape[:4]
    return ocb * ob, cgb * ib, kh, kw


@register_op("nn.conv2d", attrs={**_CONV_ATTRS, "kernel_layout": "OIHW"}, inputs=(2, 3),
             pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
def _conv2d_type(x: TensorType, w: TensorType, b: TensorType | None = None, *,
                 strides: tuple[int, int], pads: tuple[int, int, int, int],
                 dilations: tuple[int, int], groups: int, layout: str,
                 kernel_layout: str) -> TensorType:
    """2-D convolution: x [N,C,H,W], w [OC, C/groups, KH, KW], optional bias b [OC].

    With kernel_layout `OIHW{i}i{o}o` the weight is blocked: [OC/o, C/groups/i, KH, KW, i, o]
    (w_blocked[a, b, y, x, j, k] = w[a*o + k, b*i + j, y, x]); the output stays NCHW.
    """
    op = "nn.conv2d"
    out_layout = check_layout(op, x, layout)
    dtype = check_same_dtype(op, x, w, b)
    check_ints(op, "strides", strides, 2, 1)
    check_ints(op, "dilations", dilations, 2, 1)
    check_ints(op, "pads", pads, 4, 0)
    if groups < 1:
        raise TypeInferenceError(f"{op}: groups must be >= 1, got {groups}")
    n, c, h, wd = x.shape
    oc, cg, kh, kw = kernel_oihw_shape(op, w, kernel_layout)
    if c % groups or oc % groups or cg * groups != c:
        raise TypeInferenceError(
            f"{op}: input {x} and weight {w} do not fit groups={groups} "
            f"(need C = groups * weight.shape[1] and OC divisible by groups)")
    if b is not None and b.shape != (oc,):
        raise TypeInferenceError(f"{op}: bias must have shape [{oc}], got {b}")
    oh = window_out_size(h, kh, strides[0], pads[0], pads[2], dilations[0])
    ow = window_out_size(wd, kw, strides[1], pads[1], pads[3], dilations[1])
    return TensorType((n, oc, oh, ow), dtype, out_layout)


@register_ref("nn.conv2d")
def _conv2d_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
                strides: tuple[int, int], pads: tuple[int, int, int, int],
                dilations: tuple[int, int], groups: int, layout: str,
                kernel_layout: str = "OIHW") -> np.ndarray:
    if kernel_blocks(kernel_layout) is not None:
        w = unpack_kernel(w)
    dtype = x.dtype
    cdt = compute_dtype(dtype)
    x, w = x.astype(cdt, copy=False), w.astype(cdt, copy=False)
    n, c, h, wd = x.shape
    oc, cg, kh, kw = w.shape
    oh = window_out_size(h, kh, strides[0], pads[0], pads[2], dilations[0])
    ow = window_out_size(wd, kw, strides[1], pads[1], pads[3], dilations[1])
    if any(pads):
        x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ocg = oc // groups
    if cg == 1 and groups > 1:
        y = _depthwise(x, w, groups, (oh, ow), strides, dilations)
    else:
        y = np.empty((n, groups, ocg, oh, ow), dtype=cdt)
        w2 = w.reshape(groups, ocg, cg * kh * kw)
        rows = max(1, min(oh, _COLS_BUDGET // max(1, n * c * kh * kw * ow)))
        for r0 in range(0, oh, rows):
            r1 = min(oh, r0 + rows)
            # NOTE: [im2col] the window view is [N, C, KH, KW, rows, OW]; reshaping it to
            # [N, G, C/G*KH*KW, rows*OW] copies it into a column matrix, so each group is one
            # BLAS matmul with its [OC/G, C/G*KH*KW] weight matrix.
            sub = x[:, :, r0 * strides[0]:, :]
            cols = windows(sub, (kh, kw), (r1 - r0, ow), strides, dilations)
            cols = cols.reshape(n, groups, cg * kh * kw, (r1 - r0) * ow)
            y[:, :, :, r0:r1, :] = np.matmul(w2, cols).reshape(n, groups, ocg, r1 - r0, ow)
        y = y.reshape(n, oc, oh, ow)
    if b is not None:
        y += b.astype(cdt, copy=False).reshape(1, oc, 1, 1)
    return y.astype(dtype, copy=False)


def _depthwise(xp: np.ndarray, w: np.ndarray, groups: int, out: tuple[int, int],
               strides: tuple[int, int], dilations: tuple[int, int]) -> np.ndarray:
    """Grouped convolution with one input channel per group, one kernel offset at a time."""
    n = xp.shape[0]
    oc, _, kh, kw = w.shape
    mult = oc // groups
    oh, ow = out
    wg = w.reshape(groups, mult, kh, kw)
    acc = np.zeros((n, groups, mult, oh, ow), dtype=xp.dtype)
    for i in range(kh):
        for j in range(kw):
            r, s = i * dilations[0], j * dilations[1]
            tap = xp[:, :, r:r + (oh - 1) * strides[0] + 1:strides[0],
                     s:s + (ow - 1) * strides[1] + 1:strides[1]]
            acc += tap[:, :, None] * wg[None, :, :, i, j, None, None]
    return acc.reshape(n, oc, oh, ow)


@register_macs("nn.conv2d")
def _conv2d_macs(inputs: Sequence[TensorType], out: Type, attrs: Mapping[str, Any]) -> int:
    assert isinstance(out, TensorType)
    kernel_layout = attrs.get("kernel_layout", "OIHW")
    _, cg, kh, kw = kernel_oihw_shape("nn.conv2d", inputs[1], kernel_layout)
    return out.numel * cg * kh * kw


# ---------------------------------------------------------------------- conv2d_transpose
@register_op("nn.conv2d_transpose", attrs={**_CONV_ATTRS, "output_padding": (0, 0)},
             inputs=(2, 3), pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
def _conv2d_transpose_type(x: TensorType, w: TensorType, b: TensorType | None = None, *,
                           strides: tuple[int, int], pads: tuple[int, int, int, int],
                           dilations: tuple[int, int], groups: int,
                           output_padding: tuple[int, int], layout: str) -> TensorType:
    """Transposed 2-D convolution: x [N,C,H,W], w [C, OC/groups, KH, KW] (ONNX's), b [OC].

    Output size per axis: stride * (in - 1) + output_padding + dilation * (k - 1) + 1
    - pad_begin - pad_end.
    """
    op = "nn.conv2d_transpose"
    out_layout = check_layout(op, x, layout)
    dtype = check_same_dtype(op, x, w, b)
    check_ints(op, "strides", strides, 2, 1)
    check_ints(op, "dilations", dilations, 2, 1)
    check_ints(op, "pads", pads, 4, 0)
    check_ints(op, "output_padding", output_padding, 2, 0)
    if groups < 1:
        raise TypeInferenceError(f"{op}: groups must be >= 1, got {groups}")
    n, c, h, wd = x.shape
    if w.rank != 4:
        raise TypeInferenceError(f"{op}: weight must be 4-D [C, OC/groups, KH, KW], got {w}")
    wc, ocg, kh, kw = w.shape
    if wc != c or c % groups:
        raise TypeInferenceError(
            f"{op}: weight {w} does not fit input {x} with groups={groups} "
            f"(need weight.shape[0] = C, divisible by groups)")
    oc = ocg * groups
    if b is not None and b.shape != (oc,):
        raise TypeInferenceError(f"{op}: bias must have shape [{oc}], got {b}")
    oh = _transpose_out_size(h, kh, strides[0], pads[0], pads[2], dilations[0],
                             output_padding[0])
    ow = _transpose_out_size(wd, kw, strides[1], pads[1], pads[3], dilations[1],
                             output_padding[1])
    return TensorType((n, oc, oh, ow), dtype, out_layout)


def _transpose_out_size(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int,
                        dilation: int, output_padding: int) -> int:
    out = stride * (size - 1) + output_padding + dilation * (kernel - 1) + 1 - pad_begin - pad_end
    if out < 1:
        raise TypeInferenceError(f"transposed convolution output size {out} is not positive")
    return out


@register_ref("nn.conv2d_transpose")
def _conv2d_transpose_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
                          strides: tuple[int, int], pads: tuple[int, int, int, int],
                          dilations: tuple[int, int], groups: int,
                          output_padding: tuple[int, int], layout: str) -> np.ndarray:
    dtype = x.dtype
    cdt = compute_dtype(dtype)
    x, w = x.astype(cdt, copy=False), w.astype(cdt, copy=False)
    n, c, h, wd = x.shape
    _, ocg, kh, kw = w.shape
    cg = c // groups
    sh, sw = strides
    dh, dw = dilations
    # Every input pixel scatters weight * value into a KH x KW patch of the full output:
    # one matmul gives all contributions, then each kernel offset is added as a strided slab.
    xg = x.reshape(n, groups, cg, h * wd)
    wt = w.reshape(groups, cg, ocg * kh * kw).transpose(0, 2, 1)
    contrib = np.matmul(wt, xg).reshape(n, groups, ocg, kh, kw, h, wd)
    fh = sh * (h - 1) + dh * (kh - 1) + 1 + output_padding[0]
    fw = sw * (wd - 1) + dw * (kw - 1) + 1 + output_padding[1]
    full = np.zeros((n, groups, ocg, fh, fw), dtype=cdt)
    for i in range(kh):
        for j in range(kw):
            r, s = i * dh, j * dw
            full[:, :, :, r:r + sh * (h - 1) + 1:sh, s:s + sw * (wd - 1) + 1:sw] += \
                contrib[:, :, :, i, j]
    y = full[:, :, :, pads[0]:fh - pads[2], pads[1]:fw - pads[3]]
    y = y.reshape(n, groups * ocg, y.shape[3], y.shape[4])
    if b is not None:
        y = y + b.astype(cdt, copy=False).reshape(1, -1, 1, 1)
    return np.ascontiguousarray(y).astype(dtype, copy=False)


@register_macs("nn.conv2d_transpose")
def _conv2d_transpose_macs(inputs: Sequence[TensorType], out: Type,
                           attrs: Mapping[str, Any]) -> int:
    _, ocg, kh, kw = inputs[1].shape
    return inputs[0].numel * ocg * kh * kw
