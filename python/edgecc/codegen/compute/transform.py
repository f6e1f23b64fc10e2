"""TE compute rules: data movement (reshape, transpose, ...)."""

from __future__ import annotations

from typing import Any

from tvm import topi

from edgecc.codegen.compute.registry import register_compute


@register_compute("reshape")
def _reshape(x: Any, *, out_type: Any, newshape: tuple[int, ...]) -> Any:
    return topi.reshape(x, newshape)
