"""TE compute rules: pooling (max, average, global) and normalizations (batch, instance,
layer, LRN). Imported by `nn`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tvm import te, tirx

from edgecc.codegen.compute.common import (
    cast,
    const,
    dt,
    min_value,
    reducer,
    shape_of,
    work_dtype,
)
from edgecc.codegen.compute.registry import register_compute
from edgecc.errors import UnsupportedError


def _check_layout(op: str, layout: str) -> None:
    if layout != "NCHW":
        raise UnsupportedError(f"{op} codegen for layout {layout} is not implemented (NCHW only)")


def _pool_dtype(dtype: str) -> str:
    """What average pooling and global average pooling compute in (the reference widens
    float16 only; bfloat16 is widened too, at no loss)."""
    return work_dtype(dtype)


# --------------------------------------------------------------------------- max / avg pool
# NOTE: [pooling] handwritten. topi.nn.pool2d matches the reference's output sizes and values
# for pads below the kernel size (1422 configurations checked, ceil_mode and
# count_include_pad included), but its max pool uses TVM's Max, which keeps or drops a NaN
# depending on the order (the reference uses numpy.fmax: NaN only when the whole window is
# NaN), and it averages float16 in float16.
def _window(x: Any, kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int],
            dilations: Sequence[int], fill: Any) -> tuple[Any, list[Any]]:
    """A padded view of x (if_then_else: x inside, `fill` outside) and the reduce axes."""
    h, w = shape_of(x)[2:]
    r = te.reduce_axis((0, kernel[0]), name="r")
    s = te.reduce_axis((0, kernel[1]), name="s")

    def tap(n: Any, c: Any, i: Any, j: Any) -> Any:
        ih = i * strides[0] - pads[0] + r * dilations[0]
        iw = j * strides[1] - pads[1] + s * dilations[1]
        inside = tirx.all(ih >= 0, ih < h, iw >= 0, iw < w)
        return tirx.if_then_else(inside, x[n, c, ih, iw], fill)

    return tap, [r, s]


@register_compute("nn.max_pool2d")
def _max_pool2d(x: Any, *, out_type: Any, kernel: tuple[int, int], strides: tuple[int, int],
                pads: tuple[int, int, int, int], dilations: tuple[int, int], ceil_mode: bool,
                layout: str) -> Any:
    _check_layout("nn.max_pool2d", layout)
    dtype = dt(x)
    shape = tuple(out_type.shape)
    tap, axes = _window(x, kernel, strides, pads, dilations, min_value(dtype))
    red = reducer("fmax", dtype)
    return te.compute(shape, lambda n, c, i, j: red(tap(n, c, i, j), axis=axes),
                      name="max_pool2d")


def _ceil_div(a: Any, d: int) -> Any:
    return tirx.floordiv(a + (d - 1), d)


def _axis_count(start: Any, k: int, d: int, lo: int, hi: int) -> Any:
    """#{r in [0, k): lo <= start + r*d < hi}, as an int32 expression."""
    r_min = tirx.max(_ceil_div(lo - start, d), 0)
    r_max = tirx.min(_ceil_div(hi - start, d), k)
    return tirx.max(r_max - r_min, 0)


@register_compute("nn.avg_pool2d")
def _avg_pool2d(x: Any, *, out_type: Any, kernel: tuple[int, int], strides: tuple[int, int],
                pads: tuple[int, int, int, int], dilations: tuple[int, int], ceil_mode: bool,
                count_include_pad: bool, layout: str) -> Any:
    _check_layout("nn.avg_pool2d", layout)
    dtype = dt(x)
    wd = _pool_dtype(dtype)
    h, w = shape_of(x)[2:]
    shape = tuple(out_type.shape)
    tap, axes = _window(x, kernel, strides, pads, dilations, const(0, dtype))
    total = te.compute(shape, lambda n, c, i, j: te.sum(cast(tap(n, c, i, j), wd), axis=axes),
                       name="avg_pool2d_sum")
    # the divisor counts input pixels, plus the explicit pads with count_include_pad; never
    # the positions a ceil-mode window reaches past the trailing pad
    if count_include_pad:
        (lo_h, hi_h), (lo_w, hi_w) = (-pads[0], h + pads[2]), (-pads[1], w + pads[3])
    else:
        (lo_h, hi_h), (lo_w, hi_w) = (0, h), (0, w)

    def avg(n: Any, c: Any, i: Any, j: Any) -> Any:
        ch = _axis_count(i * strides[0] - pads[0], kernel[0], dilations[0], lo_h, hi_h)
        cw = _axis_count(j * strides[1] - pads[1], kernel[1], dilations[1], lo_w, hi_w)
        return cast(total[n, c, i, j] / cast(ch * cw, wd), dtype)  # 0 / 0 = NaN, as numpy

    return te.compute(shape, avg, name="avg_pool2d")


@register_compute("nn.global_avg_pool2d")
def _global_avg_pool2d(x: Any, *, out_type: Any, layout: str) -> Any:
    _check_layout("nn.global_avg_pool2d", layout)
    dtype = dt(x)
    wd = _pool_dtype(dtype)
    n, c, h, w = shape_of(x)
    r = te.reduce_axis((0, h), name="r")
    s = te.reduce_axis((0, w), name="s")
    total = te.compute((n, c, 1, 1),
                       lambda a, b, i, j: te.sum(cast(x[a, b, r, s], wd), axis=[r, s]),
                       name="global_avg_pool2d_sum")
    return te.compute((n, c, 1, 1),
                      lambda *i: cast(total(*i) / const(h * w, wd), dtype),
                      name="global_avg_pool2d")


@register_compute("nn.global_max_pool2d")
def _global_max_pool2d(x: Any, *, out_type: Any, layout: str) -> Any:
    # numpy's max: NaN propagates (unlike the windowed max pool, which uses fmax)
    _check_layout("nn.global_max_pool2d", layout)
    n, c, h, w = shape_of(x)
    r = te.reduce_axis((0, h), name="r")
    s = te.reduce_axis((0, w), name="s")
    red = reducer("max", dt(x))
    return te.compute((n, c, 1, 1), lambda a, b, i, j: red(x[a, b, r, s], axis=[r, s]),
                      name="global_max_pool2d")


# --------------------------------------------------------------------------- normalizations
def _norm_dtype(dtype: str) -> str:
    """Normalizations compute in float32 at least (float64 stays)."""
    return "float64" if dtype == "float64" else "float32"


@register_compute("nn.batch_norm")
def _batch_norm(x: Any, gamma: Any, beta: Any, mean: Any, var: Any, *, out_type: Any,
                epsilon: float, axis: int) -> Any:
    dtype = dt(x)
    wd = _norm_dtype(dtype)
    eps = const(epsilon, wd)

    def fn(*i: Any) -> Any:
        c = i[axis]
        scale = cast(gamma[c], wd) / tirx.sqrt(cast(var[c], wd) + eps)
        return cast((cast(x(*i), wd) - cast(mean[c], wd)) * scale + cast(beta[c], wd), dtype)

    return te.compute(x.shape, fn, name="batch_norm")


def _moments(x: Any, axes: Sequence[int], wd: str, name: str) -> tuple[Any, Any]:
    """Mean and (biased) variance of x over `axes`, kept as size-1 dims: two passes, as the
    reference (mean, then the mean of squared deviations)."""
    shape = shape_of(x)
    count = 1
    for a in axes:
        count *= shape[a]
    kept = tuple(1 if d in axes else n for d, n in enumerate(shape))

    def read(i: Sequence[Any], rv: Sequence[Any]) -> tuple[Any, ...]:
        it = iter(rv)
        return tuple(next(it) if d in axes else i[d] for d in range(len(shape)))

    rv1 = [te.reduce_axis((0, shape[a]), name=f"m{a}") for a in axes]
    total = te.compute(kept, lambda *i: te.sum(cast(x(*read(i, rv1)), wd), axis=rv1),
                       name=f"{name}_sum")
    mean = te.compute(kept, lambda *i: total(*i) / const(count, wd), name=f"{name}_mean")

    rv2 = [te.reduce_axis((0, shape[a]), name=f"v{a}") for a in axes]

    def sq_dev(*i: Any) -> Any:
        full = read(i, rv2)
        dev = cast(x(*full), wd) - mean(*i)
        return te.sum(dev * dev, axis=rv2)

    sq = te.compute(kept, sq_dev, name=f"{name}_sqdev")
    var = te.compute(kept, lambda *i: sq(*i) / const(count, wd), name=f"{name}_var")
    return mean, var


@register_compute("nn.instance_norm")
def _instance_norm(x: Any, gamma: Any, beta: Any, *, out_type: Any, epsilon: float) -> Any:
    dtype = dt(x)
    wd = _norm_dtype(dtype)
    rank = len(x.shape)
    mean, var = _moments(x, tuple(range(2, rank)), wd, "instance_norm")
    eps = const(epsilon, wd)

    def fn(*i: Any) -> Any:
        k = (i[0], i[1]) + (0,) * (rank - 2)
        dev = cast(x(*i), wd) - mean(*k)
        y = dev / tirx.sqrt(var(*k) + eps) * cast(gamma[i[1]], wd) + cast(beta[i[1]], wd)
        return cast(y, dtype)

    return te.compute(x.shape, fn, name="instance_norm")


@register_compute("nn.layer_norm")
def _layer_norm(x: Any, gamma: Any, beta: Any = None, *, out_type: Any, axis: int,
                epsilon: float) -> Any:
    dtype = dt(x)
    wd = _norm_dtype(dtype)
    rank = len(x.shape)
    mean, var = _moments(x, tuple(range(axis, rank)), wd, "layer_norm")
    eps = const(epsilon, wd)

    def param(p: Any, i: Sequence[Any]) -> Any:
        # gamma / beta broadcast (numpy rules) against the normalized shape x.shape[axis:]
        ps = shape_of(p)
        lead = rank - len(ps)
        return cast(p(*[0 if d == 1 else i[lead + k] for k, d in enumerate(ps)]), wd)

    def fn(*i: Any) -> Any:
        k = tuple(i[:axis]) + (0,) * (rank - axis)
        y = (cast(x(*i), wd) - mean(*k)) / tirx.sqrt(var(*k) + eps) * param(gamma, i)
        if beta is not None:
            y = y + param(beta, i)
        return cast(y, dtype)

    return te.compute(x.shape, fn, name="layer_norm")


@register_compute("nn.lrn")
def _lrn(x: Any, *, out_type: Any, size: int, alpha: float, beta: float, bias: float) -> Any:
    # NOTE: [lrn] handwritten: topi.nn.lrn rejects even sizes (ONNX's window is
    # [c - floor((size-1)/2), c + ceil((size-1)/2)]) and computes alpha * sum / size where the
    # reference computes (alpha / size) * sum.
    dtype = dt(x)
    wd = _norm_dtype(dtype)
    c = int(x.shape[1])
    before = (size - 1) // 2
    k = te.reduce_axis((0, size), name="k")

    def window(*i: Any) -> Any:
        ch = i[1] - before + k
        v = cast(x(*((i[0], tirx.min(tirx.max(ch, 0), c - 1)) + tuple(i[2:]))), wd)
        inside = tirx.all(ch >= 0, ch < c)
        return te.sum(tirx.Select(inside, v * v, const(0, wd)), axis=k)

    total = te.compute(x.shape, window, name="lrn_sum")

    def fn(*i: Any) -> Any:
        base = const(bias, wd) + const(alpha / size, wd) * total(*i)
        return cast(cast(x(*i), wd) / tirx.power(base, const(beta, wd)), dtype)

    return te.compute(x.shape, fn, name="lrn")

