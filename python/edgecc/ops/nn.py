"""Ops: the nn family: dense, matmul and dropout here; conv, pooling and norms in sub-modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType, Type
from edgecc.ops import nn_conv, nn_norm, nn_pool  # noqa: F401 - they register the family's ops
from edgecc.ops.nn_conv import check_same_dtype, compute_dtype
from edgecc.ops.registry import OpPattern, register_macs, register_op, register_ref


# ---------------------------------------------------------------------- dense
@register_op("nn.dense", inputs=(2, 3), pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
def _dense_type(x: TensorType, w: TensorType, b: TensorType | None = None) -> TensorType:
    """Fully connected layer: x [..., K] @ w[N, K]^T (+ b [N]) -> [..., N]."""
    op = "nn.dense"
    dtype = check_same_dtype(op, x, w, b)
    if x.rank < 1 or w.rank != 2:
        raise TypeInferenceError(f"{op}: needs x [..., K] and w [N, K], got {x} and {w}")
    n, k = w.shape
    if x.shape[-1] != k:
        raise TypeInferenceError(f"{op}: x {x} has K={x.shape[-1]} but w {w} has K={k}")
    if b is not None and b.shape != (n,):
        raise TypeInferenceError(f"{op}: bias must have shape [{n}], got {b}")
    return TensorType(x.shape[:-1] + (n,), dtype)


@register_ref("nn.dense")
def _dense_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    dtype = x.dtype
    cdt = compute_dtype(dtype)
    y = np.matmul(x.astype(cdt, copy=False), w.astype(cdt, copy=False).T)
    if b is not None:
        y += b.astype(cdt, copy=False)
    return y.astype(dtype, copy=False)


@register_macs("nn.dense")
def _dense_macs(inputs: Sequence[TensorType], out: Type, attrs: Mapping[str, Any]) -> int:
    assert isinstance(out, TensorType)
    return out.numel * inputs[1].shape[1]


# ---------------------------------------------------------------------- matmul
def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """numpy.matmul's output shape and contraction size (1-D operands promoted, then dropped)."""
    if not a or not b:
        raise TypeInferenceError("nn.matmul: operands must be at least 1-D")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise TypeInferenceError(f"nn.matmul: contraction sizes differ: {list(a)} @ {list(b)}")
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        raise TypeInferenceError(
            f"nn.matmul: batch dimensions of {list(a)} and {list(b)} do not broadcast") from None
    out = tuple(batch)
    if len(a) > 1:
        out += (a2[-2],)
    if len(b) > 1:
        out += (b2[-1],)
    return out, a2[-1]


@register_op("nn.matmul", inputs=2, pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
def _matmul_type(a: TensorType, b: TensorType) -> TensorType:
    """numpy.matmul: batched, with broadcast batch dims and the 1-D promotion rules."""
    dtype = check_same_dtype("nn.matmul", a, b)
    if dtype == "bool":
        raise TypeInferenceError("nn.matmul: bool operands are not supported")
    shape, _ = _matmul_shape(a.shape, b.shape)
    return TensorType(shape, dtype)


@register_ref("nn.matmul")
def _matmul_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    dtype = a.dtype
    cdt = compute_dtype(dtype)
    y = np.matmul(a.astype(cdt, copy=False), b.astype(cdt, copy=False))
    return np.asarray(y).astype(dtype, copy=False)


@register_macs("nn.matmul")
def _matmul_macs(inputs: Sequence[TensorType], out: Type, attrs: Mapping[str, Any]) -> int:
    assert isinstance(out, TensorType)
    _, k = _matmul_shape(inputs[0].shape, inputs[1].shape)
    return out.numel * k


# ---------------------------------------------------------------------- dropout
@register_op("nn.dropout", attrs={"ratio": 0.5}, pattern=OpPattern.ELEMWISE)
def _dropout_type(x: TensorType, *, ratio: float) -> TensorType:
    """Inference-mode dropout: the identity (`ratio` is kept for the record)."""
    if not 0.0 <= ratio < 1.0:
        raise TypeInferenceError(f"nn.dropout: ratio must be in [0, 1), got {ratio}")
    return x


@register_ref("nn.dropout")
def _dropout_ref(x: np.ndarray, *, ratio: float) -> np.ndarray:
    return x
