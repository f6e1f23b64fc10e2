"""Op definitions: the registry and one module per op family."""

from __future__ import annotations

import importlib

from edgecc.ops.registry import (
    REQUIRED,
    OpDef,
    OpPattern,
    get_op,
    infer_type,
    list_ops,
    normalize_attrs,
    register_macs,
    register_op,
    register_ref,
)

# Every family module, in import order. A new family is added here.
FAMILIES = (
    "core",
    "elementwise",
    "activation",
    "reduce",
    "nn",
    "transform",
    "quantize",
)


def load_all() -> None:
    """Import every op family so its ops are registered."""
    for family in FAMILIES:
        importlib.import_module(f"edgecc.ops.{family}")


__all__ = [
    "REQUIRED", "OpDef", "OpPattern", "get_op", "infer_type", "list_ops", "load_all",
    "normalize_attrs", "register_macs", "register_op", "register_ref",
]
