"""TE compute rules: data movement (reshape, transpose, concat, slice, gather, pad, ...).

The image-like resize lives in `transform_image` (imported at the bottom). `split` has no rule:
it is tuple-typed, and the codegen pipeline rewrites split + get_item into slices first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tvm import te, tirx, topi

from edgecc.codegen.compute.common import const, dt, shape_of
from edgecc.codegen.compute.registry import register_compute
from edgecc.ops.elementwise import numpy_dtype


@register_compute("reshape")
def _reshape(x: Any, *, out_type: Any, newshape: tuple[int, ...]) -> Any:
    return topi.reshape(x, newshape)


@register_compute("transpose")
def _transpose(x: Any, *, out_type: Any, axes: tuple[int, ...]) -> Any:
    return topi.transpose(x, axes)


@register_compute("concat")
def _concat(*xs: Any, out_type: Any, axis: int) -> Any:
    return topi.concatenate(xs, axis)


@register_compute("slice")
def _slice(x: Any, *, out_type: Any, starts: tuple[int, ...], ends: tuple[int, ...],
           axes: tuple[int, ...], steps: tuple[int, ...]) -> Any:
    # NOTE: [slice] handwritten: in the IR, end = -1 with a negative step means "through
    # index 0"; topi.strided_slice reads -1 as the last index (and rejects 3 -> -1 by -1).
    # Bounds are already clamped, so element i of an axis is start + i * step.
    start = {a: s for a, s in zip(axes, starts)}
    step = {a: s for a, s in zip(axes, steps)}

    def fn(*i: Any) -> Any:
        return x(*[i[d] * step[d] + start[d] if d in start else i[d] for d in range(len(i))])

    return te.compute(tuple(out_type.shape), fn, name="slice")


@register_compute("gather")
def _gather(data: Any, indices: Any, *, out_type: Any, axis: int) -> Any:
    # ONNX Gather: negative indices count from the end. topi.take's "wrap" mode (floormod)
    # agrees on every index in [-dim, dim), the ones the reference accepts.
    return topi.take(data, indices, axis=axis, mode="wrap")


@register_compute("gather_elements")
def _gather_elements(data: Any, indices: Any, *, out_type: Any, axis: int) -> Any:
    # handwritten: topi.gather does not wrap negative indices
    dim = int(data.shape[axis])
    idt = dt(indices)

    def fn(*i: Any) -> Any:
        idx = indices(*i)
        idx = tirx.Select(idx < const(0, idt), idx + const(dim, idt), idx)
        return data(*[idx if d == axis else i[d] for d in range(len(i))])

    return te.compute(tuple(out_type.shape), fn, name="gather_elements")


@register_compute("pad")
def _pad(x: Any, *, out_type: Any, pads: tuple[int, ...], mode: str, value: float) -> Any:
    # NOTE: [pad] handwritten: the IR's pads may be negative (a crop, done first) and the modes
    # are numpy's constant / reflect / edge / wrap, any pad width (several periods included);
    # topi.nn.pad takes no negative pads and topi.nn.mirror_pad neither edge nor wrap.
    dtype = dt(x)
    shape = shape_of(x)
    rank = len(shape)
    crop_lo = [max(-pads[a], 0) for a in range(rank)]
    length = [shape[a] - crop_lo[a] - max(-pads[a + rank], 0) for a in range(rank)]
    before = [max(pads[a], 0) for a in range(rank)]
    fill = np.array(value).astype(numpy_dtype(dtype)).item() if mode == "constant" else 0
    fill_c = const(fill, dtype)

    def periodic(a: int, t: Any, period: int) -> Any:
        """t mod period for t in [-before, out - before) of axis `a`.

        NOTE: [pad floormod] spelled as a select over the few periods the axis spans, not
        floormod(t, period): TVM 0.27's FlattenBuffer rewrites a fused-loop index such as
        A[i % 40 // 20, (i % 20 + 1) % 4] into A[(i + 1) % 40 // 20, (i + 1) % 4], which is
        wrong at i = 19 (the generic schedule's loop fusion produced exactly this for a wrap
        pad).
        """
        lo = -before[a]
        hi = int(out_type.shape[a]) - before[a] - 1
        k_lo, k_hi = lo // period, hi // period
        if k_hi - k_lo > 16:
            return tirx.floormod(t, period)
        value = t - k_lo * period
        for k in range(k_lo + 1, k_hi + 1):
            value = tirx.Select(t >= k * period, t - k * period, value)
        return value

    def source(a: int, o: Any) -> Any:
        """Index into the cropped axis `a` (length L) of output index o, for the modes that
        always read the input."""
        t = o - before[a]
        n = length[a]
        if mode == "edge":
            return tirx.min(tirx.max(t, 0), n - 1)
        if mode == "wrap":
            return periodic(a, t, n)
        # reflect (no edge repeat): period 2(L - 1)
        if n == 1:
            return tirx.const(0, "int32") * t
        period = 2 * (n - 1)
        u = periodic(a, t, period)
        return tirx.Select(u < n, u, period - u)

    def fn(*o: Any) -> Any:
        if mode == "constant":
            idx, conds = [], []
            for a in range(rank):
                t = o[a] - before[a]
                if before[a] > 0 or length[a] + before[a] < int(out_type.shape[a]):
                    conds.append(tirx.all(t >= 0, t < length[a]))
                idx.append(t + crop_lo[a])
            if not conds:
                return x(*idx)
            return tirx.if_then_else(tirx.all(*conds), x(*idx), fill_c)
        return x(*[source(a, o[a]) + crop_lo[a] for a in range(rank)])

    return te.compute(tuple(out_type.shape), fn, name="pad")


@register_compute("broadcast_to")
def _broadcast_to(x: Any, *, out_type: Any, shape: tuple[int, ...]) -> Any:
    return topi.broadcast_to(x, shape)


@register_compute("tile")
def _tile(x: Any, *, out_type: Any, repeats: tuple[int, ...]) -> Any:
    return topi.tile(x, repeats)


@register_compute("trilu")
def _trilu(x: Any, *, out_type: Any, upper: bool, k: int) -> Any:
    return topi.trilu(x, tirx.const(k, "int32"), bool(upper))


@register_compute("nn.depth_to_space")
def _depth_to_space(x: Any, *, out_type: Any, blocksize: int, mode: str) -> Any:
    return topi.nn.depth_to_space(x, blocksize, "NCHW", mode)


@register_compute("nn.space_to_depth")
def _space_to_depth(x: Any, *, out_type: Any, blocksize: int) -> Any:
    return topi.nn.space_to_depth(x, blocksize, "NCHW")


from edgecc.codegen.compute import transform_image as _transform_image  # noqa: E402,F401
