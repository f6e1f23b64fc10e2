"""Ops: the nn family: dense, matmul and dropout here; conv, pooling and norms in sub-modules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType, Type
from edgecc.ops import nn_conv, nn_norm, nn_pool  # noqa: F401 - they register the family's ops
from edgecc.ops.nn_conv import check_same_dtype, compute_dtype
from edgecc.ops.registry import OpPattern, register_macs, register_op, register_ref

# ---------------------------------------------------------------------- dense
_PACKED_NK = re.compile(r"NK([1-9][0-9]*)n")


def dense_block(weight_layout: str) -> int | None:
    """The N block of a packed dense weight layout (`"NK16n"` -> 16); None for plain `"NK"`.

    Raises:
        TypeInferenceError: a layout that is neither `NK` nor `NK{n}n`.
    """
    if weight_layout == "NK":
        return None
    m = _PACKED_NK.fullmatch(weight_layout)
    if m is None:
        raise TypeInferenceError(f"nn.dense: weight_layout must be 'NK' or 'NK{{n}}n' (e.g. "
                                 f"'NK16n'), got {weight_layout!r}")
    return int(m.group(1))


def dense_weight_nk(w: TensorType, weight_layout: str) -> tuple[int, int]:
    """(N, K) of a dense weight in `weight_layout`."""
    n_block = dense_block(weight_layout)
    if n_block is None:
        if w.rank != 2:
            raise TypeInferenceError(f"nn.dense: weight_layout NK needs w [N, K], got {w}")
        return w.shape[0], w.shape[1]
    if w.rank != 3 or w.shape[2] != n_block:
        raise TypeInferenceError(f"nn.dense: weight_layout {weight_layout} needs w "
                                 f"[N/{n_block}, K, {n_block}], got {w}")
    return w.shape[0] * n_block, w.shape[1]


def pack_dense_weight(w: np.ndarray, n_block: int) -> np.ndarray:
    """w [N, K] -> [N/n, K, n] (layout `NK{n}n`); N must be a multiple of `n_block`."""
    n, k = w.shape
    if n % n_block:
        raise ValueError(f"N={n} is not a multiple of the block {n_block}")
    return np.ascontiguousarray(w.reshape(n // n_block, n_block, k).transpose(0, 2, 1))


def unpack_dense_weight(w: np.ndarray, weight_layout: str) -> np.ndarray:
    """A dense weight in `weight_layout` as [N, K]."""
    if dense_block(weight_layout) is None:
        return w
    nb, k, n_block = w.shape
    return w.transpose(0, 2, 1).reshape(nb * n_block, k)


@register_op("nn.dense", attrs={"weight_layout": "NK"}, inputs=(2, 3),
             pattern=OpPattern.OUT_ELEMWISE_FUSABLE)
def _dense_type(x: TensorType, w: TensorType, b: TensorType | None = None, *,
                weight_layout: str = "NK") -> TensorType:
    """Fully connected layer: x [..., K] @ w[N, K]^T (+ b [N]) -> [..., N].

    `weight_layout` "NK{n}n" (e.g. "NK16n") holds the same weight packed as [N/n, K, n]:
    w_packed[j // n, k, j % n] = w[j, k] (made by the pack-dense-weights pass).
    """
    op = "nn.dense"
    dtype = check_same_dtype(op, x, w, b)
    if x.rank < 1:
        raise TypeInferenceError(f"{op}: needs x [..., K], got {x}")
    n, k = dense_weight_nk(w, weight_layout)
    if x.shape[-1] != k:
        raise TypeInferenceError(f"{op}: x {x} has K={x.shape[-1]} but w {w} has K={k}")
    if b is not None and b.shape != (n,):
        raise TypeInferenceError(f"{op}: bias must have shape [{n}], got {b}")
    return TensorType(x.shape[:-1] + (n,), dtype)


@register_ref("nn.dense")
def _dense_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
               weight_layout: str = "NK") -> np.ndarray:
    dtype = x.dtype
    cdt = compute_dtype(dtype)
    w = unpack_dense_weight(w, weight_layout)
    y = np.matmul(x.astype(cdt, copy=False), w.astype(cdt, copy=False).T)
    if b is not None:
        y += b.astype(cdt, copy=False)
    return y.astype(dtype, copy=False)


@register_macs("nn.dense")
def _dense_macs(inputs: Sequence[TensorType], out: Type, attrs: Mapping[str, Any]) -> int:
    assert isinstance(out, TensorType)
    return out.numel * inputs[0].shape[-1]


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
