"""Ops: 2-D max and average pooling, and global pooling (NCHW)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType
from edgecc.ops.nn_conv import check_ints, check_layout, compute_dtype, window_out_size
from edgecc.ops.registry import REQUIRED, OpPattern, register_op, register_ref

_POOL_ATTRS = {
    "kernel": REQUIRED,
    "strides": (1, 1),
    "pads": (0, 0, 0, 0),
    "ceil_mode": False,
    "layout": "NCHW",
}


def _pool_type(op: str, x: TensorType, kernel: tuple[int, int], strides: tuple[int, int],
               pads: tuple[int, int, int, int], dilations: tuple[int, int],
               ceil_mode: bool, layout: str) -> TensorType:
    out_layout = check_layout(op, x, layout)
    check_ints(op, "kernel", kernel, 2, 1)
    check_ints(op, "strides", strides, 2, 1)
    check_ints(op, "dilations", dilations, 2, 1)
    check_ints(op, "pads", pads, 4, 0)
    if x.dtype == "bool":
        raise TypeInferenceError(f"{op}: bool input is not supported")
    n, c, h, w = x.shape
    oh = window_out_size(h, kernel[0], strides[0], pads[0], pads[2], dilations[0], ceil_mode)
    ow = window_out_size(w, kernel[1], strides[1], pads[1], pads[3], dilations[1], ceil_mode)
    return TensorType((n, c, oh, ow), x.dtype, out_layout)


def _padded(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int],
            pads: tuple[int, int, int, int], dilations: tuple[int, int], ceil_mode: bool,
            fill: float | int) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """Pad x with `fill` so every window fits; returns (padded, (OH, OW), (extra_h, extra_w)).

    The extra rows/columns (beyond the explicit trailing pads) are those a ceil-mode window
    reaches past the padded input.
    """
    h, w = x.shape[2:]
    oh = window_out_size(h, kernel[0], strides[0], pads[0], pads[2], dilations[0], ceil_mode)
    ow = window_out_size(w, kernel[1], strides[1], pads[1], pads[3], dilations[1], ceil_mode)
    need_h = (oh - 1) * strides[0] + dilations[0] * (kernel[0] - 1) + 1
    need_w = (ow - 1) * strides[1] + dilations[1] * (kernel[1] - 1) + 1
    extra_h = max(0, need_h - (h + pads[0] + pads[2]))
    extra_w = max(0, need_w - (w + pads[1] + pads[3]))
    widths = ((0, 0), (0, 0), (pads[0], pads[2] + extra_h), (pads[1], pads[3] + extra_w))
    if any(p for pair in widths for p in pair):
        x = np.pad(x, widths, constant_values=fill)
    return x, (oh, ow), (extra_h, extra_w)


def _taps(xp: np.ndarray, kernel: tuple[int, int], out: tuple[int, int],
          strides: tuple[int, int], dilations: tuple[int, int]) -> Iterator[np.ndarray]:
    """Yield, per kernel offset, the strided [..., OH, OW] slab of the padded input it reads."""
    oh, ow = out
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            r, s = i * dilations[0], j * dilations[1]
            yield xp[..., r:r + (oh - 1) * strides[0] + 1:strides[0],
                     s:s + (ow - 1) * strides[1] + 1:strides[1]]


# ---------------------------------------------------------------------- max pool
@register_op("nn.max_pool2d", attrs={**_POOL_ATTRS, "dilations": (1, 1)})
def _max_pool2d_type(x: TensorType, *, kernel: tuple[int, int], strides: tuple[int, int],
                     pads: tuple[int, int, int, int], dilations: tuple[int, int],
                     ceil_mode: bool, layout: str) -> TensorType:
    """2-D max pooling over NCHW; padded positions never win."""
    return _pool_type("nn.max_pool2d", x, kernel, strides, pads, dilations, ceil_mode, layout)


@register_ref("nn.max_pool2d")
def _max_pool2d_ref(x: np.ndarray, *, kernel: tuple[int, int], strides: tuple[int, int],
                    pads: tuple[int, int, int, int], dilations: tuple[int, int],
                    ceil_mode: bool, layout: str) -> np.ndarray:
    if np.issubdtype(x.dtype, np.floating):
        fill: float | int = -np.inf
    else:
        fill = int(np.iinfo(x.dtype).min)
    xp, out, _ = _padded(x, kernel, strides, pads, dilations, ceil_mode, fill)
    y = None
    for tap in _taps(xp, kernel, out, strides, dilations):
        # fmax ignores a NaN when the other operand is a number, as onnxruntime's `>` does.
        y = tap.copy() if y is None else np.fmax(y, tap, out=y)
    assert y is not None
    return y


# ---------------------------------------------------------------------- average pool
@register_op("nn.avg_pool2d", attrs={**_POOL_ATTRS, "dilations": (1, 1),
                                           "count_include_pad": False})
def _avg_pool2d_type(x: TensorType, *, kernel: tuple[int, int], strides: tuple[int, int],
                     pads: tuple[int, int, int, int], dilations: tuple[int, int],
                     ceil_mode: bool, count_include_pad: bool, layout: str) -> TensorType:
    """2-D average pooling over NCHW.

    The divisor counts the input pixels of the window, plus its explicit pads when
    `count_include_pad`; positions a ceil-mode window reaches past the pads never count.
    """
    if not x.dtype.startswith("float"):
        raise TypeInferenceError(f"nn.avg_pool2d: input must be floating point, got {x}")
    return _pool_type("nn.avg_pool2d", x, kernel, strides, pads, dilations, ceil_mode,
                      layout)


@register_ref("nn.avg_pool2d")
def _avg_pool2d_ref(x: np.ndarray, *, kernel: tuple[int, int], strides: tuple[int, int],
                    pads: tuple[int, int, int, int], dilations: tuple[int, int],
                    ceil_mode: bool, count_include_pad: bool, layout: str) -> np.ndarray:
    dtype = x.dtype
    x = x.astype(compute_dtype(dtype), copy=False)
    dil = dilations
    xp, out, (eh, ew) = _padded(x, kernel, strides, pads, dil, ceil_mode, 0)
    total = np.zeros(x.shape[:2] + out, dtype=xp.dtype)
    for tap in _taps(xp, kernel, out, strides, dil):
        total += tap
    # The divisor per output pixel: the same windowed sum over a 2-D mask of counted positions.
    hp, wp = xp.shape[2:]
    mask = np.zeros((hp, wp), dtype=xp.dtype)
    if count_include_pad:
        mask[:hp - eh, :wp - ew] = 1
    else:
        h, w = x.shape[2:]
        mask[pads[0]:pads[0] + h, pads[1]:pads[1] + w] = 1
    count = np.zeros(out, dtype=xp.dtype)
    for tap in _taps(mask, kernel, out, strides, dil):
        count += tap
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count).astype(dtype, copy=False)


# ---------------------------------------------------------------------- global pools
def _global_type(op: str, x: TensorType, layout: str) -> TensorType:
    out_layout = check_layout(op, x, layout)
    if x.dtype == "bool":
        raise TypeInferenceError(f"{op}: bool input is not supported")
    return TensorType(x.shape[:2] + (1, 1), x.dtype, out_layout)


@register_op("nn.global_avg_pool2d", attrs={"layout": "NCHW"}, pattern=OpPattern.REDUCTION)
def _global_avg_pool2d_type(x: TensorType, *, layout: str) -> TensorType:
    """Mean over H and W: [N,C,H,W] -> [N,C,1,1]."""
    if not x.dtype.startswith("float"):
        raise TypeInferenceError(f"nn.global_avg_pool2d: input must be floating point, got {x}")
    return _global_type("nn.global_avg_pool2d", x, layout)


@register_ref("nn.global_avg_pool2d")
def _global_avg_pool2d_ref(x: np.ndarray, *, layout: str) -> np.ndarray:
    y = x.astype(compute_dtype(x.dtype), copy=False).mean(axis=(2, 3), keepdims=True)
    return y.astype(x.dtype, copy=False)


@register_op("nn.global_max_pool2d", attrs={"layout": "NCHW"}, pattern=OpPattern.REDUCTION)
def _global_max_pool2d_type(x: TensorType, *, layout: str) -> TensorType:
    """Max over H and W: [N,C,H,W] -> [N,C,1,1]."""
    return _global_type("nn.global_max_pool2d", x, layout)


@register_ref("nn.global_max_pool2d")
def _global_max_pool2d_ref(x: np.ndarray, *, layout: str) -> np.ndarray:
    return x.max(axis=(2, 3), keepdims=True)
