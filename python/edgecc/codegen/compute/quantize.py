"""TE compute rules: affine quantization (`qnn.quantize`, `qnn.dequantize`).

Handwritten: TOPI's `qnn.simulated_(de)quantize` keep the float dtype (they simulate the
integer result, picking the dtype at run time) and compute in the input's dtype; the reference
divides in the scale's dtype (float32 for half scales), rounds half to even, saturates and
returns the integer dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tvm import te, tirx

from edgecc.codegen.compute.common import bits, cast, const, dt, shape_of
from edgecc.codegen.compute.registry import register_compute


def _param_read(p: Any, rank: int, axis: int) -> Any:
    """A reader of a per-tensor (one element) or per-axis (1-D) scale / zero point at the
    index of x."""
    ps = shape_of(p)
    if int(np.prod(ps, dtype=np.int64)) == 1:
        zeros = (0,) * len(ps)
        return lambda i: p(*zeros)
    ax = axis % rank
    return lambda i: p(i[ax])


def _work(scale: Any) -> str:
    return "float32" if bits(dt(scale)) < 32 else dt(scale)


@register_compute("qnn.quantize")
def _quantize(x: Any, scale: Any, zero_point: Any, *, out_type: Any, axis: int,
              out_dtype: str) -> Any:
    odt = str(out_type.dtype)
    wd = _work(scale)
    rank = len(x.shape)
    s_at = _param_read(scale, rank, axis)
    zp_at = _param_read(zero_point, rank, axis)
    info = np.iinfo(odt)
    # q = rint(x / s) is a whole number; clamping it to the output range widened by the
    # largest zero point (zero points are 8/16-bit, so the bounds are exact in float32)
    # before the integer add gives saturate(q + zp) without overflowing int32.
    margin = 1 << 16
    lo, hi = float(info.min - margin), float(info.max + margin)

    def fn(*i: Any) -> Any:
        q = tirx.nearbyint(cast(x(*i), wd) / cast(s_at(i), wd))  # round half to even
        q = tirx.min(tirx.max(q, const(lo, wd)), const(hi, wd))
        v = cast(q, "int32") + cast(zp_at(i), "int32")
        v = tirx.min(tirx.max(v, const(int(info.min), "int32")), const(int(info.max), "int32"))
        return cast(v, odt)

    return te.compute(x.shape, fn, name="quantize")


@register_compute("qnn.dequantize")
def _dequantize(x: Any, scale: Any, zero_point: Any, *, out_type: Any, axis: int) -> Any:
    odt = str(out_type.dtype)
    wd = _work(scale)
    rank = len(x.shape)
    s_at = _param_read(scale, rank, axis)
    zp_at = _param_read(zero_point, rank, axis)
    # x - zp is exact in int32 for 8/16-bit x, in int64 for int32 x
    idt = "int64" if bits(dt(x)) >= 32 else "int32"

    def fn(*i: Any) -> Any:
        d = cast(x(*i), idt) - cast(zp_at(i), idt)
        return cast(cast(d, wd) * cast(s_at(i), wd), odt)

    return te.compute(x.shape, fn, name="dequantize")
