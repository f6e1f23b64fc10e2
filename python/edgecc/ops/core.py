"""Structural ops: identity and tuple element access."""

from __future__ import annotations

from typing import Any

from edgecc.errors import TypeInferenceError
from edgecc.ir.types import TensorType, Type
from edgecc.ops.registry import REQUIRED, OpPattern, register_op, register_ref


@register_op("identity", pattern=OpPattern.ELEMWISE)
def _identity_type(x: TensorType) -> TensorType:
    """Returns its input unchanged."""
    return x


@register_ref("identity")
def _identity_ref(x: Any) -> Any:
    return x


@register_op("get_item", attrs={"index": REQUIRED}, pattern=OpPattern.INJECTIVE)
def _get_item_type(x: Type, *, index: int) -> TensorType:
    """Element `index` of a tuple-typed value (the outputs of a multi-output op)."""
    if not isinstance(x, tuple):
        raise TypeInferenceError(f"get_item needs a tuple-typed input, got {x}")
    if not 0 <= index < len(x):
        raise TypeInferenceError(f"get_item index {index} out of range for {len(x)} elements")
    return x[index]


@register_ref("get_item")
def _get_item_ref(x: Any, *, index: int) -> Any:
    return x[index]
