"""TE compute rules: elementwise and broadcasting math."""

from __future__ import annotations

from typing import Any

from tvm import topi

from edgecc.codegen.compute.registry import register_compute


@register_compute("add")
def _add(a: Any, b: Any, *, out_type: Any) -> Any:
    return topi.add(a, b)


@register_compute("sub")
def _sub(a: Any, b: Any, *, out_type: Any) -> Any:
    return topi.subtract(a, b)


@register_compute("mul")
def _mul(a: Any, b: Any, *, out_type: Any) -> Any:
    return topi.multiply(a, b)
