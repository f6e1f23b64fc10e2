"""TE compute rules: activations."""

from __future__ import annotations

from typing import Any

from tvm import topi

from edgecc.codegen.compute.registry import register_compute


@register_compute("nn.relu")
def _relu(x: Any, *, out_type: Any) -> Any:
    return topi.nn.relu(x)
