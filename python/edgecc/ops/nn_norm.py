"""Ops: normalizations (batch, instance, layer) and local response normalization."""

from __future__ import annotations

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType
from edgecc.ops.registry import REQUIRED, OpPattern, register_op, register_ref


def _check_float(op: str, x: TensorType) -> None:
    if not x.dtype.startswith("float") and x.dtype != "bfloat16":
        raise TypeInferenceError(f"{op}: input must be floating point, got {x}")


def _check_param(op: str, name: str, t: TensorType | None, shape: tuple[int, ...]) -> None:
    if t is not None and t.shape != shape:
        raise TypeInferenceError(f"{op}: {name} must have shape {list(shape)}, got {t}")
    if t is not None:
        _check_float(op, t)


def _work(x: np.ndarray) -> np.ndarray:
    """x in the precision a normalization computes in: at least float32."""
    return x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)


# ---------------------------------------------------------------------- batch norm
# NOTE: [batch_norm pattern] inference batch norm is a per-channel affine map of its input,
# i.e. a broadcast op, so it is marked BROADCAST: it fuses into a producer's output like any
# broadcast op (fold-batchnorm usually removes it before fusion anyway).
@register_op("nn.batch_norm", attrs={"epsilon": 1e-5, "axis": 1}, inputs=5,
             pattern=OpPattern.BROADCAST)
def _batch_norm_type(x: TensorType, gamma: TensorType, beta: TensorType, mean: TensorType,
                     var: TensorType, *, epsilon: float, axis: int) -> TensorType:
    """Inference batch norm: (x - mean) / sqrt(var + epsilon) * gamma + beta, per `axis`.

    The four parameters are 1-D of x.shape[axis]; they may have a dtype other than x's.
    """
    op = "nn.batch_norm"
    _check_float(op, x)
    if not 0 <= axis < x.rank:
        raise TypeInferenceError(f"{op}: axis {axis} out of range for {x}")
    shape = (x.shape[axis],)
    for name, t in (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
        _check_param(op, name, t, shape)
    return x


@register_ref("nn.batch_norm")
def _batch_norm_ref(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray,
                    var: np.ndarray, *, epsilon: float, axis: int) -> np.ndarray:
    xw = _work(x)
    bshape = (-1,) + (1,) * (x.ndim - axis - 1)

    def param(p: np.ndarray) -> np.ndarray:
        return p.astype(xw.dtype, copy=False).reshape(bshape)

    scale = param(gamma) / np.sqrt(param(var) + xw.dtype.type(epsilon))
    y = (xw - param(mean)) * scale + param(beta)
    return y.astype(x.dtype, copy=False)


# ---------------------------------------------------------------------- instance norm
@register_op("nn.instance_norm", attrs={"epsilon": 1e-5}, inputs=3)
def _instance_norm_type(x: TensorType, gamma: TensorType, beta: TensorType, *,
                        epsilon: float) -> TensorType:
    """Normalize each (n, c) slice of x [N, C, ...] over its spatial axes; gamma, beta [C]."""
    op = "nn.instance_norm"
    _check_float(op, x)
    if x.rank < 3:
        raise TypeInferenceError(f"{op}: input must be [N, C, D1, ...] (rank >= 3), got {x}")
    _check_param(op, "gamma", gamma, (x.shape[1],))
    _check_param(op, "beta", beta, (x.shape[1],))
    return x


@register_ref("nn.instance_norm")
def _instance_norm_ref(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *,
                       epsilon: float) -> np.ndarray:
    xw = _work(x)
    axes = tuple(range(2, x.ndim))
    mean = xw.mean(axis=axes, keepdims=True)
    dev = xw - mean
    var = (dev * dev).mean(axis=axes, keepdims=True)
    bshape = (1, -1) + (1,) * (x.ndim - 2)
    g = gamma.astype(xw.dtype, copy=False).reshape(bshape)
    b = beta.astype(xw.dtype, copy=False).reshape(bshape)
    y = dev / np.sqrt(var + xw.dtype.type(epsilon)) * g + b
    return y.astype(x.dtype, copy=False)


# ---------------------------------------------------------------------- layer norm
@register_op("nn.layer_norm", attrs={"axis": -1, "epsilon": 1e-5}, inputs=(2, 3))
def _layer_norm_type(x: TensorType, gamma: TensorType, beta: TensorType | None = None, *,
                     axis: int, epsilon: float) -> TensorType:
    """Normalize x over axes [axis, rank); then * gamma (+ beta), broadcast against x.

    `axis` is normalized (non-negative) at import. gamma and beta broadcast to x.shape[axis:].
    Computed in float32 at least (ONNX's default stash_type).
    """
    op = "nn.layer_norm"
    _check_float(op, x)
    if not 0 <= axis < x.rank:
        raise TypeInferenceError(f"{op}: axis {axis} must be in [0, {x.rank}) for {x}")
    inner = x.shape[axis:]
    for name, t in (("gamma", gamma), ("beta", beta)):
        if t is None:
            continue
        _check_float(op, t)
        try:
            fits = np.broadcast_shapes(inner, t.shape) == inner
        except ValueError:
            fits = False
        if not fits:
            raise TypeInferenceError(
                f"{op}: {name} {t} does not broadcast to the normalized shape {list(inner)}")
    return x


@register_ref("nn.layer_norm")
def _layer_norm_ref(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray | None = None, *,
                    axis: int, epsilon: float) -> np.ndarray:
    xw = _work(x)
    axes = tuple(range(axis, x.ndim))
    mean = xw.mean(axis=axes, keepdims=True)
    dev = xw - mean
    var = (dev * dev).mean(axis=axes, keepdims=True)
    y = dev / np.sqrt(var + xw.dtype.type(epsilon)) * gamma.astype(xw.dtype, copy=False)
    if beta is not None:
        y = y + beta.astype(xw.dtype, copy=False)
    return y.astype(x.dtype, copy=False)


# ---------------------------------------------------------------------- LRN
@register_op("nn.lrn", attrs={"size": REQUIRED, "alpha": 1e-4, "beta": 0.75, "bias": 1.0})
def _lrn_type(x: TensorType, *, size: int, alpha: float, beta: float,
              bias: float) -> TensorType:
    """Local response normalization across channels of x [N, C, ...] (ONNX's LRN).

    y = x / (bias + alpha / size * sum of x^2 over channels
    [c - floor((size-1)/2), c + ceil((size-1)/2)]) ** beta.
    """
    op = "nn.lrn"
    _check_float(op, x)
    if x.rank < 2:
        raise TypeInferenceError(f"{op}: input must be [N, C, ...], got {x}")
    if not isinstance(size, int) or size < 1:
        raise TypeInferenceError(f"{op}: size must be a positive integer, got {size}")
    return x


@register_ref("nn.lrn")
def _lrn_ref(x: np.ndarray, *, size: int, alpha: float, beta: float, bias: float) -> np.ndarray:
    xw = _work(x)
    c = x.shape[1]
    before = (size - 1) // 2
    after = size - 1 - before
    sq = xw * xw
    widths = [(0, 0)] * x.ndim
    widths[1] = (before, after)
    sqp = np.pad(sq, widths)
    total = np.zeros_like(sq)
    for k in range(size):
        total += sqp[:, k:k + c]
    y = xw / (xw.dtype.type(bias) + xw.dtype.type(alpha / size) * total) ** xw.dtype.type(beta)
    return y.astype(x.dtype, copy=False)
