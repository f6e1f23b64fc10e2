"""Affine quantization ops: `qnn.quantize` (float to int) and `qnn.dequantize` (int to float)."""

from __future__ import annotations

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType, canonical_dtype
from edgecc.ops.elementwise import FLOAT_DTYPES, numpy_dtype
from edgecc.ops.registry import REQUIRED, OpPattern, register_op, register_ref

QUANT_DTYPES = ("int8", "uint8", "int16", "uint16", "int32")


def _check_params(op: str, x: TensorType, scale: TensorType, zero_point: TensorType,
                  axis: int) -> None:
    """Scale and zero point: both scalars (per tensor) or 1-D of x's `axis` length."""
    if scale.shape != zero_point.shape:
        raise TypeInferenceError(f"{op}: scale {scale} and zero point {zero_point} must have "
                                 "one shape")
    if scale.numel == 1 and scale.rank <= 1:
        return
    if scale.rank != 1:
        raise TypeInferenceError(f"{op}: scale {scale} must be a scalar or 1-D (blocked "
                                 "quantization is not supported)")
    if not -x.rank <= axis < x.rank:
        raise TypeInferenceError(f"{op}: axis {axis} out of range for {x}")
    if scale.shape[0] != x.shape[axis]:
        raise TypeInferenceError(f"{op}: per-axis scale {scale} does not match dimension "
                                 f"{axis} of {x}")


def _per_axis(param: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    """A scale or zero point shaped to broadcast along `axis` of an `ndim`-D tensor."""
    if param.size == 1:
        return param.reshape(())
    shape = [1] * ndim
    shape[axis % ndim] = param.size
    return param.reshape(shape)


@register_op("qnn.quantize", attrs={"axis": 1, "out_dtype": REQUIRED}, inputs=3,
             pattern=OpPattern.ELEMWISE)
def _quantize_type(x: TensorType, scale: TensorType, zero_point: TensorType, *, axis: int,
                   out_dtype: str) -> TensorType:
    """`qnn.quantize(x, scale, zp)`: saturate(round_half_even(x / scale) + zp) as `out_dtype`.

    The division is done in the scale's dtype; scale and zp are per tensor or per `axis`.
    """
    out = canonical_dtype(out_dtype)
    if out not in QUANT_DTYPES[:4]:
        raise TypeInferenceError(f"qnn.quantize: out_dtype {out} is not one of "
                                 f"{', '.join(QUANT_DTYPES[:4])}")
    if zero_point.dtype != out:
        raise TypeInferenceError(f"qnn.quantize: zero point {zero_point} must be {out}")
    if scale.dtype not in FLOAT_DTYPES:
        raise TypeInferenceError(f"qnn.quantize: scale {scale} must be floating-point")
    if x.dtype not in FLOAT_DTYPES + ("int32",):
        raise TypeInferenceError(f"qnn.quantize: x {x} must be floating-point or int32")
    _check_params("qnn.quantize", x, scale, zero_point, axis)
    return TensorType(x.shape, out, x.layout)


@register_ref("qnn.quantize")
def _quantize_ref(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, *, axis: int = 1,
                  out_dtype: str) -> np.ndarray:
    work = np.float32 if scale.dtype.itemsize < 4 else scale.dtype
    s = _per_axis(scale.astype(work), x.ndim, axis)
    zp = _per_axis(zero_point.astype(np.int64), x.ndim, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.rint(x.astype(work) / s)  # rint rounds half to even
    info = np.iinfo(numpy_dtype(canonical_dtype(out_dtype)))
    q = np.clip(q + zp, info.min, info.max)
    return q.astype(canonical_dtype(out_dtype))


@register_op("qnn.dequantize", attrs={"axis": 1}, inputs=3, pattern=OpPattern.ELEMWISE)
def _dequantize_type(x: TensorType, scale: TensorType, zero_point: TensorType, *,
                     axis: int) -> TensorType:
    """`qnn.dequantize(x, scale, zp)`: (x - zp) * scale, in the scale's dtype."""
    if x.dtype not in QUANT_DTYPES:
        raise TypeInferenceError(f"qnn.dequantize: x {x} must be one of {', '.join(QUANT_DTYPES)}")
    if zero_point.dtype != x.dtype:
        raise TypeInferenceError(f"qnn.dequantize: zero point {zero_point} must be {x.dtype}")
    if scale.dtype not in FLOAT_DTYPES:
        raise TypeInferenceError(f"qnn.dequantize: scale {scale} must be floating-point")
    _check_params("qnn.dequantize", x, scale, zero_point, axis)
    return TensorType(x.shape, scale.dtype, x.layout)


@register_ref("qnn.dequantize")
def _dequantize_ref(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, *,
                    axis: int = 1) -> np.ndarray:
    work = np.float32 if scale.dtype.itemsize < 4 else scale.dtype
    s = _per_axis(scale.astype(work), x.ndim, axis)
    zp = _per_axis(zero_point.astype(np.int64), x.ndim, axis)
    out = (x.astype(np.int64) - zp).astype(work) * s
    return out.astype(scale.dtype)
