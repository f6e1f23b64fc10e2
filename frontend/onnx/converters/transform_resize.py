"""ONNX converters: Resize and Upsample (to `image.resize2d` over the H, W dims of NCHW)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node

Inputs = list[Node | None]

_COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                "asymmetric", "tf_half_pixel_for_nn")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _optional_floats(ctx: ConvertContext, node: Node | None, what: str) -> list[float] | None:
    """A constant float input; None when omitted or empty (ONNX's 'not given')."""
    if node is None:
        return None
    value = np.asarray(ctx.require_const(node, what)).reshape(-1)
    return None if value.size == 0 else [float(v) for v in value]


def _sizes_from_scales(ctx: ConvertContext, in_shape: Sequence[int], scales: Sequence[float]
                       ) -> list[int]:
    """floor(in * scale) per dim (ONNX's output size for a scale)."""
    if len(scales) != len(in_shape):
        raise ctx.error(f"{len(scales)} scales for a rank-{len(in_shape)} input")
    out = []
    for dim, scale in zip(in_shape, scales):
        if scale <= 0:
            raise ctx.error(f"scale {scale} must be positive")
        size = int(np.floor(np.float32(dim) * np.float32(scale)))
        if size <= 0:
            raise ctx.error(f"scale {scale} on a dimension of {dim} gives an empty output")
        out.append(size)
    return out


def _explicit_scales(shape: Sequence[int], out: Sequence[int],
                     scales: Sequence[float]) -> tuple[float, float] | None:
    """The spatial scales to record on the op, or None when they equal output / input size."""
    spatial = (float(scales[2]), float(scales[3]))
    if all(math.isclose(o / i, s, rel_tol=1e-6) for i, o, s in zip(shape[2:], out[2:], spatial)):
        return None
    return spatial


def _sizes_with_policy(ctx: ConvertContext, in_shape: Sequence[int], sizes: Sequence[int],
                       axes: Sequence[int], policy: str) -> tuple[list[int], list[float]]:
    """Output sizes and scales under keep_aspect_ratio_policy (not_larger / not_smaller)."""
    if policy == "stretch":
        return list(sizes), [o / i for o, i in zip(sizes, in_shape)]
    ratios = [sizes[a] / in_shape[a] for a in axes]
    if policy == "not_larger":
        scale = min(ratios)
    elif policy == "not_smaller":
        scale = max(ratios)
    else:
        raise ctx.unsupported(f"keep_aspect_ratio_policy {policy!r}")
    out = list(in_shape)
    full_scales = [1.0] * len(in_shape)
    for a in axes:
        out[a] = int(scale * in_shape[a] + 0.5)
        full_scales[a] = scale
    return out, full_scales


def emit_resize(ctx: ConvertContext, x: Node | None, *, scales: Sequence[float] | None,
                sizes: Sequence[int] | None, axes: Sequence[int] | None = None,
                policy: str = "stretch", mode: str = "nearest",
                coordinate_transformation_mode: str = "half_pixel",
                nearest_mode: str = "round_prefer_floor", cubic_coeff_a: float = -0.75,
                exclude_outside: int = 0) -> Node:
    """Emit `image.resize2d` for an ONNX resize given by scales or sizes (over `axes`)."""
    if x is None:
        raise ctx.error("missing input X")
    shape = list(x.shape)
    rank = len(shape)
    if rank != 4:
        raise ctx.unsupported(f"only 4-D NCHW inputs can be resized, got shape {shape}")
    if mode not in ("nearest", "linear", "cubic"):
        raise ctx.unsupported(f"mode {mode!r}")
    if coordinate_transformation_mode == "tf_crop_and_resize":
        raise ctx.unsupported("coordinate_transformation_mode 'tf_crop_and_resize'")
    if coordinate_transformation_mode not in _COORD_MODES:
        raise ctx.unsupported(f"coordinate_transformation_mode "
                              f"{coordinate_transformation_mode!r}")
    if mode == "nearest" and nearest_mode not in _NEAREST_MODES:
        raise ctx.unsupported(f"nearest_mode {nearest_mode!r}")
    if axes is None:
        axes = list(range(rank))
    else:
        axes = [a + rank if a < 0 else a for a in axes]
        if any(not 0 <= a < rank for a in axes) or len(set(axes)) != len(axes):
            raise ctx.error(f"axes {list(axes)} are invalid for rank {rank}")
    if sizes is not None:
        if len(sizes) != len(axes):
            raise ctx.error(f"{len(sizes)} sizes for {len(axes)} axes")
        full = list(shape)
        for a, s in zip(axes, sizes):
            full[a] = int(s)
        out, full_scales = _sizes_with_policy(ctx, shape, full, axes, policy)
    elif scales is not None:
        if len(scales) != len(axes):
            raise ctx.error(f"{len(scales)} scales for {len(axes)} axes")
        full_scales = [1.0] * rank
        for a, s in zip(axes, scales):
            full_scales[a] = s
        out = _sizes_from_scales(ctx, shape, full_scales)
    else:
        raise ctx.error("Resize needs scales or sizes")
    if out[:2] != shape[:2]:
        raise ctx.unsupported(f"only the two spatial dims of an NCHW input can be resized "
                              f"(from {shape} to {out})")
    return ctx.emit("image.resize2d", [x], {
        "sizes": (out[2], out[3]), "mode": mode,
        "coordinate_transformation_mode": coordinate_transformation_mode,
        "nearest_mode": nearest_mode, "cubic_coeff_a": float(cubic_coeff_a),
        "exclude_outside": bool(exclude_outside),
        "scales": _explicit_scales(shape, out, full_scales)})


def _legacy_resize(ctx: ConvertContext, x: Node | None, scales: Sequence[float], mode: str) -> Node:
    """Upsample / Resize-10: asymmetric coordinates; nearest truncates (ceil if shrinking)."""
    if mode == "bilinear":
        mode = "linear"
    if mode not in ("nearest", "linear"):
        raise ctx.unsupported(f"mode {mode!r}")
    spatial = list(scales)[2:]
    shrinking = {s < 1 for s in spatial if s != 1}
    if len(shrinking) > 1 and mode == "nearest":
        raise ctx.unsupported(f"nearest resize that grows one axis and shrinks the other "
                              f"(scales {list(scales)})")
    nearest = "ceil" if shrinking == {True} else "floor"
    return emit_resize(ctx, x, scales=scales, sizes=None, mode=mode,
                       coordinate_transformation_mode="asymmetric", nearest_mode=nearest)


@converter("Upsample", since=1)
def upsample_v1(ctx: ConvertContext, inputs: Inputs, *, height_scale: float,
                width_scale: float, mode: str = "nearest") -> Node:
    """Upsample-1: height_scale and width_scale attributes."""
    return _legacy_resize(ctx, inputs[0], [1.0, 1.0, height_scale, width_scale], mode)


@converter("Upsample", since=7)
def upsample_v7(ctx: ConvertContext, inputs: Inputs, *, scales: Sequence[float],
                mode: str = "nearest") -> Node:
    """Upsample-7: scales attribute."""
    return _legacy_resize(ctx, inputs[0], scales, mode)


@converter("Upsample", since=9)
def upsample_v9(ctx: ConvertContext, inputs: Inputs, *, mode: str = "nearest") -> Node:
    """Upsample-9: constant scales input."""
    scales = _optional_floats(ctx, inputs[1], "scales")
    if scales is None:
        raise ctx.error("Upsample needs scales")
    return _legacy_resize(ctx, inputs[0], scales, mode)


@converter("Resize", since=10)
def resize_v10(ctx: ConvertContext, inputs: Inputs, *, mode: str = "nearest") -> Node:
    """Resize-10: constant scales input, Upsample's coordinate rules."""
    scales = _optional_floats(ctx, inputs[1], "scales")
    if scales is None:
        raise ctx.error("Resize-10 needs scales")
    return _legacy_resize(ctx, inputs[0], scales, mode)


def _resize_inputs(ctx: ConvertContext, inputs: Inputs
                   ) -> tuple[list[float] | None, list[int] | None]:
    scales = _optional_floats(ctx, inputs[2], "scales")
    sizes = None
    if inputs[3] is not None:
        value = np.asarray(ctx.require_const(inputs[3], "sizes")).reshape(-1)
        sizes = [int(v) for v in value] if value.size else None
    if scales is not None and sizes is not None:
        raise ctx.error("Resize takes scales or sizes, not both")
    return scales, sizes


@converter("Resize", since=11)
def resize_v11(ctx: ConvertContext, inputs: Inputs, *, mode: str = "nearest",
               coordinate_transformation_mode: str = "half_pixel",
               nearest_mode: str = "round_prefer_floor", cubic_coeff_a: float = -0.75,
               exclude_outside: int = 0, extrapolation_value: float = 0.0) -> Node:
    """Resize-11/13: roi (only for tf_crop_and_resize), scales or sizes."""
    scales, sizes = _resize_inputs(ctx, inputs)
    return emit_resize(ctx, inputs[0], scales=scales, sizes=sizes, mode=mode,
                       coordinate_transformation_mode=coordinate_transformation_mode,
                       nearest_mode=nearest_mode, cubic_coeff_a=cubic_coeff_a,
                       exclude_outside=exclude_outside)


@converter("Resize", since=18)
def resize_v18(ctx: ConvertContext, inputs: Inputs, *, mode: str = "nearest",
               coordinate_transformation_mode: str = "half_pixel",
               nearest_mode: str = "round_prefer_floor", cubic_coeff_a: float = -0.75,
               exclude_outside: int = 0, extrapolation_value: float = 0.0,
               antialias: int = 0, axes: Sequence[int] | None = None,
               keep_aspect_ratio_policy: str = "stretch") -> Node:
    """Resize-18/19: adds antialias, axes and keep_aspect_ratio_policy."""
    scales, sizes = _resize_inputs(ctx, inputs)
    node = emit_resize(ctx, inputs[0], scales=scales, sizes=sizes, axes=axes,
                       policy=keep_aspect_ratio_policy, mode=mode,
                       coordinate_transformation_mode=coordinate_transformation_mode,
                       nearest_mode=nearest_mode, cubic_coeff_a=cubic_coeff_a,
                       exclude_outside=exclude_outside)
    if antialias:
        # Antialiasing only changes a shrinking linear or cubic resize; elsewhere it is a no-op.
        assert inputs[0] is not None  # emit_resize checked it
        src = inputs[0].shape[2:]
        dst = node.shape[2:]
        if mode == "nearest" or any(o < i for i, o in zip(src, dst)):
            raise ctx.unsupported("antialias=1 (on a shrinking or nearest resize)")
    return node
