"""Ops: image-like transforms of NCHW tensors (resize, depth-to-space, space-to-depth)."""

from __future__ import annotations

import numpy as np

from edgecc.errors import TypeInferenceError, UnsupportedError
from edgecc.ir.types import TensorType
from edgecc.ops.registry import REQUIRED, OpPattern, register_op, register_ref

RESIZE_MODES = ("nearest", "linear", "cubic")
COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
               "asymmetric", "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _moved(x: TensorType, shape: tuple[int, ...]) -> TensorType:
    quant = x.quant if x.quant is not None and x.quant.axis is None else None
    return TensorType(shape, x.dtype, None, quant)


def _check_nchw(x: TensorType, op: str) -> None:
    if x.rank != 4:
        raise TypeInferenceError(f"{op} needs a 4-D NCHW tensor, got {x}")
    if x.layout not in (None, "NCHW"):
        raise UnsupportedError(f"{op} is implemented for layout NCHW only, got {x}")


# --------------------------------------------------------------------------- resize
@register_op("image.resize2d", attrs={
    "sizes": REQUIRED, "mode": "nearest", "coordinate_transformation_mode": "half_pixel",
    "nearest_mode": "round_prefer_floor", "cubic_coeff_a": -0.75, "exclude_outside": False,
    "scales": None,
}, pattern=OpPattern.INJECTIVE)
def _resize2d_type(x: TensorType, *, sizes: tuple[int, int], mode: str,
                   coordinate_transformation_mode: str, nearest_mode: str,
                   cubic_coeff_a: float, exclude_outside: bool,
                   scales: tuple[float, float] | None) -> TensorType:
    """Resize the H and W dims of an NCHW tensor to `sizes` (ONNX Resize semantics).

    The scale of each axis is output size / input size, unless `scales` (H, W) gives the one
    the coordinate mapping uses (ONNX's scales need not equal the size ratio: 0.6 on 4 pixels
    gives 2). Linear and cubic results on integer tensors truncate toward zero and saturate
    (onnxruntime's behaviour).
    """
    _check_nchw(x, "image.resize2d")
    if len(sizes) != 2 or any(s <= 0 for s in sizes):
        raise TypeInferenceError(f"image.resize2d: sizes {list(sizes)} must be two positive "
                                 "sizes (H, W)")
    if scales is not None and (len(scales) != 2 or any(s <= 0 for s in scales)):
        raise TypeInferenceError(f"image.resize2d: scales {list(scales)} must be two positive "
                                 "numbers (H, W)")
    for what, value, allowed in (("mode", mode, RESIZE_MODES),
                                 ("coordinate_transformation_mode",
                                  coordinate_transformation_mode, COORD_MODES),
                                 ("nearest_mode", nearest_mode, NEAREST_MODES)):
        if value not in allowed:
            raise TypeInferenceError(f"image.resize2d: {what} {value!r} is not one of "
                                     f"{list(allowed)}")
    if mode != "nearest" and x.dtype == "bool":
        raise TypeInferenceError(f"image.resize2d: mode {mode!r} needs a numeric tensor, got {x}")
    if 0 in x.shape[2:]:
        raise TypeInferenceError(f"image.resize2d: cannot resize an empty image {x}")
    quant = x.quant if x.quant is not None and x.quant.axis in (None, 1) else None
    return TensorType((x.shape[0], x.shape[1], sizes[0], sizes[1]), x.dtype, None, quant)


def source_coords(n_in: int, n_out: int, mode: str, scale: float | None = None) -> np.ndarray:
    """Input coordinates of the `n_out` output positions of one axis (float64).

    `scale` defaults to n_out / n_in (the IR op's definition); ONNX's scales may differ from it
    when n_in * scale is not a whole number.
    """
    y = np.arange(n_out, dtype=np.float64)
    if scale is None:
        scale = n_out / n_in
    if mode == "half_pixel":
        return (y + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        adjustment = n_out / (scale * n_in)
        offset = n_in / 2 * (1 - adjustment)
        return offset + (y + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (y + 0.5) / scale - 0.5 if n_out > 1 else np.zeros(n_out)  # 0: ONNX's spec
    if mode == "align_corners":
        return y * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
    if mode == "asymmetric":
        return y / scale
    if mode == "tf_half_pixel_for_nn":
        return (y + 0.5) / scale
    raise UnsupportedError(f"coordinate_transformation_mode {mode!r} is not implemented")


def _cubic_kernel(t: np.ndarray, a: float) -> np.ndarray:
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def axis_taps(n_in: int, n_out: int, *, mode: str, coordinate_transformation_mode: str,
              nearest_mode: str, cubic_coeff_a: float, exclude_outside: bool,
              scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Source indices [n_out, taps] (clamped to the input) and weights for one resized axis."""
    x = source_coords(n_in, n_out, coordinate_transformation_mode, scale)
    if mode == "nearest":
        if nearest_mode == "round_prefer_floor":
            idx = np.ceil(x - 0.5)
        elif nearest_mode == "round_prefer_ceil":
            idx = np.floor(x + 0.5)
        elif nearest_mode == "floor":
            idx = np.floor(x)
        else:
            idx = np.ceil(x)
        idx = np.clip(idx.astype(np.int64), 0, n_in - 1)[:, None]
        return idx, np.ones(idx.shape)
    base = np.floor(x)
    frac = x - base
    if mode == "linear":
        offsets = np.arange(2)
        weights = np.stack([1 - frac, frac], axis=1)
    else:
        offsets = np.arange(-1, 3)
        weights = _cubic_kernel(frac[:, None] - offsets[None, :], cubic_coeff_a)
    raw = base.astype(np.int64)[:, None] + offsets[None, :]
    if exclude_outside:
        weights = np.where((raw < 0) | (raw >= n_in), 0.0, weights)
        total = weights.sum(axis=1, keepdims=True)
        weights = weights / np.where(total == 0, 1.0, total)
    return np.clip(raw, 0, n_in - 1), weights


@register_ref("image.resize2d")
def _resize2d_ref(x: np.ndarray, *, sizes: tuple[int, int], mode: str,
                  coordinate_transformation_mode: str, nearest_mode: str,
                  cubic_coeff_a: float, exclude_outside: bool,
                  scales: tuple[float, float] | None) -> np.ndarray:
    opts = dict(mode=mode, coordinate_transformation_mode=coordinate_transformation_mode,
                nearest_mode=nearest_mode, cubic_coeff_a=cubic_coeff_a,
                exclude_outside=exclude_outside)
    out = x if mode == "nearest" else x.astype(np.float64)
    for i, (axis, n_out) in enumerate(((2, sizes[0]), (3, sizes[1]))):
        n_in = out.shape[axis]
        scale = None if scales is None else scales[i]
        if n_in == n_out and scale in (None, 1.0):
            continue  # scale 1 is an identity in every mode (as in onnxruntime)
        idx, weights = axis_taps(n_in, n_out, scale=scale, **opts)
        gathered = np.take(out, idx, axis=axis)  # [..., n_out, taps, ...]
        if mode == "nearest":
            out = np.squeeze(gathered, axis=axis + 1)
            continue
        wshape = [1] * gathered.ndim
        wshape[axis], wshape[axis + 1] = weights.shape
        out = (gathered * weights.reshape(wshape)).sum(axis=axis + 1)
    if mode != "nearest" and np.issubdtype(x.dtype, np.integer):
        # Integer images: truncate toward zero and saturate, as onnxruntime does.
        info = np.iinfo(x.dtype)
        out = np.clip(np.trunc(out), info.min, info.max)
    return np.asarray(out).astype(x.dtype)


# --------------------------------------------------------------------------- depth/space
@register_op("nn.depth_to_space", attrs={"blocksize": REQUIRED, "mode": "DCR"},
             pattern=OpPattern.INJECTIVE)
def _d2s_type(x: TensorType, *, blocksize: int, mode: str) -> TensorType:
    """Move channel blocks into b x b spatial blocks (NCHW; mode DCR or CRD)."""
    _check_nchw(x, "nn.depth_to_space")
    if mode not in ("DCR", "CRD"):
        raise TypeInferenceError(f"nn.depth_to_space: mode {mode!r} is not DCR or CRD")
    n, c, h, w = x.shape
    b = blocksize
    if b <= 0 or c % (b * b):
        raise TypeInferenceError(f"nn.depth_to_space: channels of {x} are not divisible by "
                                 f"blocksize^2 ({b}^2)")
    return _moved(x, (n, c // (b * b), h * b, w * b))


@register_ref("nn.depth_to_space")
def _d2s_ref(x: np.ndarray, *, blocksize: int, mode: str) -> np.ndarray:
    n, c, h, w = x.shape
    b = blocksize
    if mode == "DCR":
        t = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        t = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return t.reshape(n, c // (b * b), h * b, w * b)


@register_op("nn.space_to_depth", attrs={"blocksize": REQUIRED}, pattern=OpPattern.INJECTIVE)
def _s2d_type(x: TensorType, *, blocksize: int) -> TensorType:
    """Move b x b spatial blocks into channels (NCHW, DCR order, ONNX SpaceToDepth)."""
    _check_nchw(x, "nn.space_to_depth")
    n, c, h, w = x.shape
    b = blocksize
    if b <= 0 or h % b or w % b:
        raise TypeInferenceError(f"nn.space_to_depth: H and W of {x} are not divisible by "
                                 f"blocksize {b}")
    return _moved(x, (n, c * b * b, h // b, w // b))


@register_ref("nn.space_to_depth")
def _s2d_ref(x: np.ndarray, *, blocksize: int) -> np.ndarray:
    n, c, h, w = x.shape
    b = blocksize
    t = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    return t.reshape(n, c * b * b, h // b, w // b)
