"""The compute table: op name -> a function building the op's TE tensor from TE inputs.

A rule takes the op's inputs as `te.Tensor`s (positionally), the node's output type as
`out_type`, and the op's attributes as keyword arguments; it returns a `te.Tensor` (a tuple for
tuple-typed ops). TOPI's compute definitions may be used; how the result is scheduled is
decided by `edgecc.schedules`, not here.

    @register_compute("nn.relu")
    def relu(x, *, out_type):
        return te.compute(x.shape, lambda *i: te.max(x(*i), tirx.const(0, x.dtype)), name="relu")
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from edgecc.errors import UnsupportedError

ComputeFn = Callable[..., Any]
Matcher = Callable[..., bool]

# op -> the generic rule; op -> [(matches(**attrs), rule)] variants tried first, in order
_TABLE: dict[str, ComputeFn] = {}
_VARIANTS: dict[str, list[tuple[Matcher, ComputeFn]]] = {}

# Families, imported on first use; a new family is added here.
FAMILIES = ("elementwise", "activation", "reduce", "nn", "transform", "quantize",
            "conv_blocked", "dense_packed")
_LOADED = False


def register_compute(op: str, *, when: Matcher | None = None
                     ) -> Callable[[ComputeFn], ComputeFn]:
    """Register the compute rule of `op`; with `when(**attrs) -> bool`, a variant rule used for
    the attribute values it accepts (e.g. a packed weight layout), tried before the generic one."""

    def wrap(fn: ComputeFn) -> ComputeFn:
        if when is not None:
            _VARIANTS.setdefault(op, []).append((when, fn))
            return fn
        if op in _TABLE:
            raise ValueError(f"compute rule for {op!r} registered twice")
        _TABLE[op] = fn
        return fn

    return wrap


def _ensure_loaded() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        for fam in FAMILIES:
            importlib.import_module(f"edgecc.codegen.compute.{fam}")


def has_compute(op: str) -> bool:
    _ensure_loaded()
    return op in _TABLE


def get_compute(op: str, attrs: dict[str, Any] | None = None) -> ComputeFn:
    """The compute rule of `op` for these attributes; an op without one raises
    `UnsupportedError` naming it."""
    _ensure_loaded()
    for when, fn in _VARIANTS.get(op, []):
        if attrs is not None and when(**attrs):
            return fn
    try:
        return _TABLE[op]
    except KeyError:
        raise UnsupportedError(f"op {op} has no code generation rule yet (it runs only in the "
                               "reference interpreter)") from None


def ops_with_compute() -> list[str]:
    _ensure_loaded()
    return sorted(_TABLE)
