"""`ConvertContext`: what a converter may do while turning one ONNX node into IR nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgecc.errors import ConversionError, UnsupportedError
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node

# Results of all-constant nodes up to this many elements are computed at import, so shape
# arithmetic (Shape -> Gather -> Concat -> Reshape) leaves a static graph. Larger ones are left
# to the fold-constants pass.
FOLD_MAX_ELEMENTS = 4096


class ConvertContext:
    """Emits IR for the ONNX node being converted (`op_type`, `node_name`, `opset`)."""

    def __init__(self, graph: Graph, opsets: Mapping[str, int]) -> None:
        self.graph = graph
        self.opsets = dict(opsets)
        self.op_type = ""
        self.node_name = ""
        self.num_outputs = 0  # outputs of the ONNX node being converted (Split needs it)

    @property
    def opset(self) -> int:
        """The model's ai.onnx opset."""
        return self.opsets.get("", 1)

    # -------------------------------------------------------------- emitting
    def emit(self, op: str, inputs: Sequence[Node], attrs: Mapping[str, Any] | None = None) -> Node:
        """Add an IR node; computed at once when all inputs are constants and the result small."""
        from edgecc.ops.registry import get_op

        node = self.graph.create_node(op, list(inputs), attrs or {})
        node.meta["onnx_node"] = self.node_name
        if (
            inputs
            and all(i.is_const and i.value is not None for i in inputs)
            and get_op(op).ref is not None
            and not isinstance(node.type, tuple)
            and node.ttype.numel <= FOLD_MAX_ELEMENTS
        ):
            return self._fold(node)
        return node

    def _fold(self, node: Node) -> Node:
        from edgecc.ops.registry import get_op

        ref = get_op(node.op).ref
        assert ref is not None
        value = np.asarray(ref(*[i.value for i in node.inputs], **node.attrs))
        value = value.astype(node.dtype, copy=False).reshape(node.shape)
        self.graph.erase_node(node)
        return self.graph.add_const(value)

    def const(self, value: Any, dtype: str | None = None, name: str | None = None) -> Node:
        """Add a constant (a scalar, list or array)."""
        arr = np.asarray(value, dtype=dtype)
        return self.graph.add_const(arr, name=name)

    # -------------------------------------------------------------- reading constants
    @staticmethod
    def value(node: Node | None) -> np.ndarray | None:
        """The value of a constant input, or None when it is computed at run time."""
        if node is not None and node.is_const:
            return node.value
        return None

    def require_const(self, node: Node | None, what: str) -> np.ndarray:
        """The value of an input that edgecc needs at compile time; raises if it is dynamic."""
        value = self.value(node)
        if value is None:
            raise UnsupportedError(
                f"{self.where()}: input {what!r} must be a compile-time constant "
                f"(it is computed at run time by %{node.name if node else '?'})")
        return value

    # -------------------------------------------------------------- errors
    def where(self) -> str:
        return f"ONNX node {self.node_name!r} ({self.op_type})"

    def unsupported(self, message: str) -> UnsupportedError:
        """An error for an attribute value or form edgecc does not implement."""
        return UnsupportedError(f"{self.where()}: {message}")

    def error(self, message: str) -> ConversionError:
        """An error for a malformed node."""
        return ConversionError(f"{self.where()}: {message}")
