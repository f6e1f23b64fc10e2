"""ONNX converters: the transform family (Reshape, Transpose, Concat, Split, Slice, Pad ...)."""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np

from edgecc.frontend.onnx.context import FOLD_MAX_ELEMENTS, ConvertContext
from edgecc.frontend.onnx.registry import converter
from edgecc.ir.node import Node

Inputs = list[Node | None]


# --------------------------------------------------------------------------- helpers
def const_ints(ctx: ConvertContext, node: Node | None, what: str) -> list[int]:
    """A constant integer input as a list of ints (raises if it is computed at run time)."""
    value = ctx.require_const(node, what)
    return [int(v) for v in np.asarray(value).reshape(-1)]


def norm_axis(ctx: ConvertContext, axis: int, rank: int, what: str = "axis") -> int:
    """Normalize a possibly negative axis against `rank`; raises for one out of range."""
    if not -rank <= axis < rank:
        raise ctx.error(f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def norm_axes(ctx: ConvertContext, axes: Sequence[int], rank: int, what: str = "axes"
              ) -> list[int]:
    """Normalize a list of axes; repeated axes are an error."""
    out = [norm_axis(ctx, int(a), rank, what) for a in axes]
    if len(set(out)) != len(out):
        raise ctx.error(f"{what} {list(axes)} repeat an axis")
    return out


def _x(ctx: ConvertContext, node: Node | None, what: str = "input") -> Node:
    if node is None:
        raise ctx.error(f"missing {what}")
    return node


def reshape_to(ctx: ConvertContext, x: Node, shape: Sequence[int]) -> Node:
    """Emit a `reshape` of `x` to a fully static shape."""
    return ctx.emit("reshape", [x], {"newshape": tuple(int(d) for d in shape)})


# --------------------------------------------------------------------------- Reshape
def resolve_reshape(ctx: ConvertContext, in_shape: Sequence[int], spec: Sequence[int],
                    allowzero: int = 0) -> list[int]:
    """ONNX Reshape's target: 0 copies the input dim (unless allowzero), -1 is inferred."""
    out: list[int] = []
    infer = None
    for i, d in enumerate(spec):
        if d == -1:
            if infer is not None:
                raise ctx.error(f"shape {list(spec)} has more than one -1")
            infer = i
            out.append(1)
        elif d == 0 and not allowzero:
            if i >= len(in_shape):
                raise ctx.error(f"shape {list(spec)}: 0 at position {i} copies a dimension "
                                f"the input {list(in_shape)} does not have")
            out.append(in_shape[i])
        elif d < 0:
            raise ctx.error(f"shape {list(spec)} has an invalid dimension {d}")
        else:
            out.append(d)
    numel = prod(in_shape)
    if infer is not None:
        known = prod(out)
        if known == 0 or numel % known:
            raise ctx.error(f"cannot reshape {list(in_shape)} to {list(spec)}")
        out[infer] = numel // known
    if prod(out) != numel:
        raise ctx.error(f"cannot reshape {list(in_shape)} ({numel} elements) to {list(spec)}")
    return out


@converter("Reshape", since=1)
def reshape_v1(ctx: ConvertContext, inputs: Inputs, *, shape: Sequence[int] = (),
               consumed_inputs: Sequence[int] = ()) -> Node:
    """Reshape-1: the target shape is an attribute."""
    x = _x(ctx, inputs[0])
    return reshape_to(ctx, x, resolve_reshape(ctx, x.shape, list(shape)))


@converter("Reshape", since=5)
def reshape_v5(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Reshape-5/13: the target shape is a (constant) input."""
    x = _x(ctx, inputs[0])
    return reshape_to(ctx, x, resolve_reshape(ctx, x.shape, const_ints(ctx, inputs[1], "shape")))


@converter("Reshape", since=14)
def reshape_v14(ctx: ConvertContext, inputs: Inputs, *, allowzero: int = 0) -> Node:
    """Reshape-14+: allowzero=1 makes 0 a real zero-size dimension."""
    x = _x(ctx, inputs[0])
    spec = const_ints(ctx, inputs[1], "shape")
    return reshape_to(ctx, x, resolve_reshape(ctx, x.shape, spec, allowzero))


@converter("Flatten", since=1)
def flatten(ctx: ConvertContext, inputs: Inputs, *, axis: int = 1) -> Node:
    """Flatten to 2-D around `axis` (0..rank, negative from opset 11)."""
    x = _x(ctx, inputs[0])
    rank = len(x.shape)
    if not -rank <= axis <= rank:
        raise ctx.error(f"axis {axis} is out of range for rank {rank}")
    axis = axis + rank if axis < 0 else axis
    return reshape_to(ctx, x, (prod(x.shape[:axis]), prod(x.shape[axis:])))


def _squeeze(ctx: ConvertContext, x: Node, axes: Sequence[int] | None) -> Node:
    shape = x.shape
    if axes is None:
        keep = [d for d in shape if d != 1]
    else:
        drop = norm_axes(ctx, axes, len(shape))
        for a in drop:
            if shape[a] != 1:
                raise ctx.error(f"cannot squeeze axis {a} of size {shape[a]} (shape "
                                f"{list(shape)})")
        keep = [d for i, d in enumerate(shape) if i not in drop]
    return reshape_to(ctx, x, keep)


@converter("Squeeze", since=1)
def squeeze_v1(ctx: ConvertContext, inputs: Inputs, *, axes: Sequence[int] | None = None
               ) -> Node:
    """Squeeze-1/11: axes attribute (all size-1 dims when absent)."""
    return _squeeze(ctx, _x(ctx, inputs[0]), axes)


@converter("Squeeze", since=13)
def squeeze_v13(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Squeeze-13+: optional constant axes input (empty: every size-1 dim)."""
    axes = None if inputs[1] is None else const_ints(ctx, inputs[1], "axes") or None
    return _squeeze(ctx, _x(ctx, inputs[0]), axes)


def _unsqueeze(ctx: ConvertContext, x: Node, axes: Sequence[int]) -> Node:
    rank = len(x.shape) + len(axes)
    new = norm_axes(ctx, axes, rank)
    rest = iter(x.shape)
    return reshape_to(ctx, x, [1 if i in new else next(rest) for i in range(rank)])


@converter("Unsqueeze", since=1)
def unsqueeze_v1(ctx: ConvertContext, inputs: Inputs, *, axes: Sequence[int]) -> Node:
    """Unsqueeze-1/11: axes attribute, relative to the output rank."""
    return _unsqueeze(ctx, _x(ctx, inputs[0]), axes)


@converter("Unsqueeze", since=13)
def unsqueeze_v13(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Unsqueeze-13+: constant axes input."""
    return _unsqueeze(ctx, _x(ctx, inputs[0]), const_ints(ctx, inputs[1], "axes"))


# --------------------------------------------------------------------------- Transpose, Concat
@converter("Transpose", since=1)
def transpose(ctx: ConvertContext, inputs: Inputs, *, perm: Sequence[int] | None = None
              ) -> Node:
    """Transpose; the default perm reverses the dims."""
    x = _x(ctx, inputs[0])
    rank = len(x.shape)
    axes = list(range(rank))[::-1] if perm is None else norm_axes(ctx, perm, rank, "perm")
    if sorted(axes) != list(range(rank)):
        raise ctx.error(f"perm {list(axes)} is not a permutation of 0..{rank - 1}")
    return ctx.emit("transpose", [x], {"axes": tuple(axes)})


def _concat(ctx: ConvertContext, inputs: Inputs, axis: int) -> Node:
    xs = [x for x in inputs if x is not None]
    if not xs:
        raise ctx.error("Concat needs at least one input")
    axis = norm_axis(ctx, axis, len(xs[0].shape))
    return ctx.emit("concat", xs, {"axis": axis})


@converter("Concat", since=1)
def concat_v1(ctx: ConvertContext, inputs: Inputs, *, axis: int = 1) -> Node:
    """Concat-1: axis defaults to 1."""
    return _concat(ctx, inputs, axis)


@converter("Concat", since=4)
def concat_v4(ctx: ConvertContext, inputs: Inputs, *, axis: int) -> Node:
    """Concat-4+: axis required (negative from 11)."""
    return _concat(ctx, inputs, axis)


# --------------------------------------------------------------------------- Split
def _split(ctx: ConvertContext, x: Node, axis: int, sizes: Sequence[int] | None,
           num_outputs: int | None = None) -> list[Node]:
    axis = norm_axis(ctx, axis, len(x.shape))
    dim = x.shape[axis]
    if sizes is None:
        if num_outputs is None:
            num_outputs = ctx.num_outputs
            if dim % num_outputs:
                raise ctx.error(f"dimension {axis} of size {dim} does not split evenly into "
                                f"{num_outputs} outputs")
        if num_outputs <= 0:
            raise ctx.error(f"num_outputs {num_outputs} must be positive")
        chunk = -(-dim // num_outputs)
        sizes = [chunk] * (num_outputs - 1) + [dim - chunk * (num_outputs - 1)]
        if sizes[-1] < 0:
            raise ctx.error(f"dimension {axis} of size {dim} cannot split into {num_outputs} "
                            f"chunks of {chunk}")
    sizes = [int(s) for s in sizes]
    if any(s < 0 for s in sizes) or sum(sizes) != dim:
        raise ctx.error(f"split sizes {sizes} do not add up to dimension {axis} ({dim})")
    value = ctx.value(x)
    if value is not None and x.ttype.numel <= FOLD_MAX_ELEMENTS:
        cuts = np.cumsum(sizes)[:-1]
        return [ctx.const(np.ascontiguousarray(p)) for p in np.split(value, cuts, axis=axis)]
    parts = ctx.emit("split", [x], {"axis": axis, "sizes": tuple(sizes)})
    return [ctx.emit("get_item", [parts], {"index": i}) for i in range(len(sizes))]


@converter("Split", since=1)
def split_v1(ctx: ConvertContext, inputs: Inputs, *, axis: int = 0,
             split: Sequence[int] | None = None) -> list[Node]:
    """Split-1: sizes from the attribute or the optional second input."""
    if split is None and inputs[1] is not None:
        split = const_ints(ctx, inputs[1], "split")
    return _split(ctx, _x(ctx, inputs[0]), axis, split or None)


@converter("Split", since=2)
def split_v2(ctx: ConvertContext, inputs: Inputs, *, axis: int = 0,
             split: Sequence[int] | None = None) -> list[Node]:
    """Split-2/11: sizes attribute (equal parts when absent)."""
    return _split(ctx, _x(ctx, inputs[0]), axis, split or None)


@converter("Split", since=13)
def split_v13(ctx: ConvertContext, inputs: Inputs, *, axis: int = 0) -> list[Node]:
    """Split-13: optional constant sizes input (empty means equal parts)."""
    sizes = None if inputs[1] is None else const_ints(ctx, inputs[1], "split") or None
    return _split(ctx, _x(ctx, inputs[0]), axis, sizes)


@converter("Split", since=18)
def split_v18(ctx: ConvertContext, inputs: Inputs, *, axis: int = 0,
              num_outputs: int | None = None) -> list[Node]:
    """Split-18: sizes input or num_outputs (the last chunk may be smaller)."""
    if inputs[1] is not None and num_outputs is not None:
        raise ctx.error("Split takes either the split input or num_outputs, not both")
    sizes = None if inputs[1] is None else const_ints(ctx, inputs[1], "split") or None
    return _split(ctx, _x(ctx, inputs[0]), axis, sizes, num_outputs)


# --------------------------------------------------------------------------- Slice
def clamp_slice(start: int, end: int, step: int, dim: int) -> tuple[int, int]:
    """ONNX Slice's clamping of one axis' bounds (negative values count from the end)."""
    if dim == 0:
        return 0, 0
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        return min(max(start, 0), dim), min(max(end, 0), dim)
    return min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)


def emit_slice(ctx: ConvertContext, x: Node, starts: Sequence[int], ends: Sequence[int],
               axes: Sequence[int] | None = None, steps: Sequence[int] | None = None) -> Node:
    """Emit a `slice` with ONNX semantics (normalizes axes, clamps bounds)."""
    rank = len(x.shape)
    axes = list(range(len(starts))) if axes is None else list(axes)
    steps = [1] * len(starts) if steps is None else list(steps)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ctx.error(f"starts {list(starts)}, ends {list(ends)}, axes {axes} and steps "
                        f"{steps} must have the same length")
    axes = norm_axes(ctx, axes, rank)
    bounds = []
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step == 0:
            raise ctx.error("slice step 0")
        bounds.append(clamp_slice(start, end, step, x.shape[axis]))
    return ctx.emit("slice", [x], {"starts": tuple(b[0] for b in bounds),
                                   "ends": tuple(b[1] for b in bounds),
                                   "axes": tuple(axes), "steps": tuple(steps)})


@converter("Slice", since=1)
def slice_v1(ctx: ConvertContext, inputs: Inputs, *, starts: Sequence[int],
             ends: Sequence[int], axes: Sequence[int] | None = None) -> Node:
    """Slice-1: bounds as attributes, step 1."""
    return emit_slice(ctx, _x(ctx, inputs[0]), starts, ends, axes)


@converter("Slice", since=10)
def slice_v10(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Slice-10+: constant starts, ends, optional axes and steps inputs."""
    starts = const_ints(ctx, inputs[1], "starts")
    ends = const_ints(ctx, inputs[2], "ends")
    axes = None if inputs[3] is None else const_ints(ctx, inputs[3], "axes")
    steps = None if inputs[4] is None else const_ints(ctx, inputs[4], "steps")
    return emit_slice(ctx, _x(ctx, inputs[0]), starts, ends, axes, steps)


# --------------------------------------------------------------------------- Gather
@converter("Gather", since=1)
def gather(ctx: ConvertContext, inputs: Inputs, *, axis: int = 0) -> Node:
    """Gather along `axis`; indices may be a run-time tensor (negative ones wrap)."""
    data, indices = _x(ctx, inputs[0], "data"), _x(ctx, inputs[1], "indices")
    return ctx.emit("gather", [data, indices], {"axis": norm_axis(ctx, axis, len(data.shape))})


@converter("GatherElements", since=11)
def gather_elements(ctx: ConvertContext, inputs: Inputs, *, axis: int = 0) -> Node:
    """GatherElements along `axis`."""
    data, indices = _x(ctx, inputs[0], "data"), _x(ctx, inputs[1], "indices")
    return ctx.emit("gather_elements", [data, indices],
                    {"axis": norm_axis(ctx, axis, len(data.shape))})


# --------------------------------------------------------------------------- Pad
_PAD_MODES = ("constant", "reflect", "edge", "wrap")


def emit_pad(ctx: ConvertContext, x: Node, pads: Sequence[int], mode: str, value: float,
             axes: Sequence[int] | None = None) -> Node:
    """Emit a `pad`; `pads` lists begins then ends of `axes` (all axes when None)."""
    rank = len(x.shape)
    if mode not in _PAD_MODES:
        raise ctx.unsupported(f"pad mode {mode!r} (supported: {', '.join(_PAD_MODES)})")
    axes = list(range(rank)) if axes is None else norm_axes(ctx, axes, rank)
    if len(pads) != 2 * len(axes):
        raise ctx.error(f"pads {list(pads)} must hold 2 values per padded axis ({len(axes)})")
    full = [0] * (2 * rank)
    for i, axis in enumerate(axes):
        full[axis], full[axis + rank] = int(pads[i]), int(pads[i + len(axes)])
    return ctx.emit("pad", [x], {"pads": tuple(full), "mode": mode, "value": float(value)})


@converter("Pad", since=1)
def pad_v1(ctx: ConvertContext, inputs: Inputs, *, paddings: Sequence[int],
           mode: str = "constant", value: float = 0.0) -> Node:
    """Pad-1: `paddings` attribute."""
    return emit_pad(ctx, _x(ctx, inputs[0]), paddings, mode, value)


@converter("Pad", since=2)
def pad_v2(ctx: ConvertContext, inputs: Inputs, *, pads: Sequence[int],
           mode: str = "constant", value: float = 0.0) -> Node:
    """Pad-2: `pads` and `value` attributes."""
    return emit_pad(ctx, _x(ctx, inputs[0]), pads, mode, value)


def _pad_value(ctx: ConvertContext, node: Node | None) -> float:
    if node is None:
        return 0.0
    value = np.asarray(ctx.require_const(node, "constant_value"))
    if value.size == 0:
        return 0.0
    if value.size != 1:
        raise ctx.error(f"constant_value must be a scalar, got shape {list(value.shape)}")
    return float(value.reshape(-1)[0])


@converter("Pad", since=11)
def pad_v11(ctx: ConvertContext, inputs: Inputs, *, mode: str = "constant") -> Node:
    """Pad-11/13: constant pads and optional constant_value inputs."""
    pads = const_ints(ctx, inputs[1], "pads")
    return emit_pad(ctx, _x(ctx, inputs[0]), pads, mode, _pad_value(ctx, inputs[2]))


@converter("Pad", since=18)
def pad_v18(ctx: ConvertContext, inputs: Inputs, *, mode: str = "constant") -> Node:
    """Pad-18+: adds the optional axes input (wrap mode from 19)."""
    pads = const_ints(ctx, inputs[1], "pads")
    axes = None if inputs[3] is None else const_ints(ctx, inputs[3], "axes")
    return emit_pad(ctx, _x(ctx, inputs[0]), pads, mode, _pad_value(ctx, inputs[2]), axes)


# --------------------------------------------------------------------------- Expand, Tile
@converter("Expand", since=8)
def expand(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Expand: bidirectional (numpy) broadcast of the input and the constant shape."""
    x = _x(ctx, inputs[0])
    shape = const_ints(ctx, inputs[1], "shape")
    try:
        out = np.broadcast_shapes(tuple(x.shape), tuple(shape))
    except ValueError:
        raise ctx.error(f"input shape {list(x.shape)} does not broadcast with {shape}") from None
    return ctx.emit("broadcast_to", [x], {"shape": tuple(int(d) for d in out)})


@converter("Tile", since=1)
def tile_v1(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Tile-1: a scalar repeat count `tiles` along one constant `axis`."""
    x = _x(ctx, inputs[0])
    tiles = const_ints(ctx, inputs[1], "tiles")
    axis = const_ints(ctx, inputs[2], "axis")
    if len(tiles) != 1 or len(axis) != 1:
        raise ctx.error("Tile-1 takes scalar tiles and axis inputs")
    repeats = [1] * len(x.shape)
    repeats[norm_axis(ctx, axis[0], len(x.shape))] = tiles[0]
    return ctx.emit("tile", [x], {"repeats": tuple(repeats)})


@converter("Tile", since=6)
def tile_v6(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Tile-6+: one constant repeat count per axis."""
    x = _x(ctx, inputs[0])
    repeats = const_ints(ctx, inputs[1], "repeats")
    if len(repeats) != len(x.shape):
        raise ctx.error(f"repeats {repeats} must have one entry per axis of {list(x.shape)}")
    return ctx.emit("tile", [x], {"repeats": tuple(repeats)})


# --------------------------------------------------------------------------- depth/space
def _nchw(ctx: ConvertContext, x: Node) -> Node:
    if len(x.shape) != 4:
        raise ctx.unsupported(f"only 4-D NCHW input is supported, got shape {list(x.shape)}")
    return x


@converter("DepthToSpace", since=1)
def depth_to_space_v1(ctx: ConvertContext, inputs: Inputs, *, blocksize: int) -> Node:
    """DepthToSpace-1: DCR order."""
    x = _nchw(ctx, _x(ctx, inputs[0]))
    return ctx.emit("nn.depth_to_space", [x], {"blocksize": blocksize, "mode": "DCR"})


@converter("DepthToSpace", since=11)
def depth_to_space_v11(ctx: ConvertContext, inputs: Inputs, *, blocksize: int,
                       mode: str = "DCR") -> Node:
    """DepthToSpace-11+: mode DCR or CRD."""
    x = _nchw(ctx, _x(ctx, inputs[0]))
    if mode not in ("DCR", "CRD"):
        raise ctx.unsupported(f"mode {mode!r}")
    return ctx.emit("nn.depth_to_space", [x], {"blocksize": blocksize, "mode": mode})


@converter("SpaceToDepth", since=1)
def space_to_depth_v1(ctx: ConvertContext, inputs: Inputs, *, blocksize: int) -> Node:
    """SpaceToDepth-1/13: DCR order."""
    x = _nchw(ctx, _x(ctx, inputs[0]))
    return ctx.emit("nn.space_to_depth", [x], {"blocksize": blocksize})


@converter("SpaceToDepth", since=28)
def space_to_depth_v28(ctx: ConvertContext, inputs: Inputs, *, blocksize: int,
                       mode: str = "DCR") -> Node:
    """SpaceToDepth-28: adds mode; CRD becomes reshape -> transpose -> reshape."""
    x = _nchw(ctx, _x(ctx, inputs[0]))
    if mode == "DCR":
        return ctx.emit("nn.space_to_depth", [x], {"blocksize": blocksize})
    if mode != "CRD":
        raise ctx.unsupported(f"mode {mode!r}")
    n, c, h, w = x.shape
    b = blocksize
    if b <= 0 or h % b or w % b:
        raise ctx.error(f"H and W of {list(x.shape)} are not divisible by blocksize {b}")
    t = reshape_to(ctx, x, (n, c, h // b, b, w // b, b))
    t = ctx.emit("transpose", [t], {"axes": (0, 1, 3, 5, 2, 4)})
    return reshape_to(ctx, t, (n, c * b * b, h // b, w // b))


# --------------------------------------------------------------------------- Trilu, Identity
@converter("Trilu", since=14)
def trilu(ctx: ConvertContext, inputs: Inputs, *, upper: int = 1) -> Node:
    """Trilu: the diagonal offset k is an optional constant input."""
    k = 0
    if inputs[1] is not None:
        ks = const_ints(ctx, inputs[1], "k")
        if len(ks) != 1:
            raise ctx.error("k must be a scalar")
        k = ks[0]
    return ctx.emit("trilu", [_x(ctx, inputs[0])], {"upper": bool(upper), "k": k})


@converter("Identity", since=1)
def identity(ctx: ConvertContext, inputs: Inputs) -> Node:
    """Identity (removed later by the simplify pass)."""
    return ctx.emit("identity", [_x(ctx, inputs[0])])


# Resize and Upsample live in their own module; importing it registers them.
from edgecc.frontend.onnx.converters import transform_resize as _resize  # noqa: E402,F401
