"""Tensor types: shape, dtype, layout and (for quantized tensors) quantization parameters."""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from edgecc.errors import EdgeccError

# Canonical dtype names are numpy's; the text form uses the short names.
_SHORT = {
    "float16": "f16", "float32": "f32", "float64": "f64", "bfloat16": "bf16",
    "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64", "bool": "bool",
}
_LONG = {v: k for k, v in _SHORT.items()}

DTYPES = tuple(_SHORT)


def canonical_dtype(dtype: object) -> str:
    """Return edgecc's name for a dtype given as a string, numpy dtype or short name."""
    if isinstance(dtype, str) and dtype in _LONG:
        return _LONG[dtype]
    try:
        name = np.dtype(dtype).name  # type: ignore[call-overload]
    except TypeError as exc:
        raise EdgeccError(f"unknown dtype {dtype!r}") from exc
    if name not in _SHORT:
        raise EdgeccError(f"unsupported dtype {name!r}; edgecc supports {', '.join(DTYPES)}")
    return name


def short_dtype(dtype: str) -> str:
    """Return the short name (`f32`) of a canonical dtype (`float32`)."""
    return _SHORT[dtype]


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of a canonical dtype."""
    return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


@dataclass(frozen=True)
class QuantParams:
    """Affine quantization of a tensor: real = scale * (q - zero_point).

    `axis` is None for per-tensor parameters, else the channel axis of per-channel ones.
    """

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None

    def __str__(self) -> str:
        def seq(v: tuple) -> str:
            return repr(v[0]) if len(v) == 1 else "(" + ",".join(repr(x) for x in v) + ")"

        axis = "" if self.axis is None else f",axis={self.axis}"
        return f"q(scale={seq(self.scale)},zp={seq(self.zero_point)}{axis})"


@dataclass(frozen=True)
class TensorType:
    """A static tensor type; prints as `f32[1,3,224,224]{NCHW}`."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    layout: str | None = None
    quant: QuantParams | None = None

    def __post_init__(self) -> None:
        shape = tuple(int(d) for d in self.shape)
        if any(d < 0 for d in shape):
            raise EdgeccError(f"negative dimension in shape {shape}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype))
        if self.layout is not None and len(self.layout) != len(shape) and not any(
            c.isdigit() for c in self.layout
        ):
            raise EdgeccError(f"layout {self.layout!r} does not match rank {len(shape)}")

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        return prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * dtype_bytes(self.dtype)

    def with_shape(self, shape: tuple[int, ...]) -> TensorType:
        return TensorType(tuple(shape), self.dtype, None, self.quant)

    def with_dtype(self, dtype: str) -> TensorType:
        return TensorType(self.shape, dtype, self.layout, None)

    def __str__(self) -> str:
        text = f"{short_dtype(self.dtype)}[{','.join(str(d) for d in self.shape)}]"
        if self.layout:
            text += "{" + self.layout + "}"
        if self.quant is not None:
            text += str(self.quant)
        return text


Type = TensorType | tuple[TensorType, ...]


def type_str(t: Type) -> str:
    """Text form of a node type: a tensor type, or a parenthesised tuple of them."""
    if isinstance(t, tuple):
        return "(" + ", ".join(str(x) for x in t) + ")"
    return str(t)


def type_of_array(value: np.ndarray) -> TensorType:
    """The TensorType of a numpy array."""
    return TensorType(tuple(value.shape), canonical_dtype(value.dtype))
