"""`verify(graph)`: def-before-use, single definition, consistent users, types match rules."""

from __future__ import annotations

from edgecc.errors import EdgeccError, VerifyError
from edgecc.ir.graph import Graph, type_refines
from edgecc.ir.node import CONST_OP, INPUT_OP, Node
from edgecc.ir.types import TensorType


def verify(graph: Graph) -> None:
    """Raise `VerifyError` naming the first broken invariant of `graph`."""
    from edgecc.ops.registry import infer_type, normalize_attrs

    seen: set[Node] = set()
    names: set[str] = set()
    for node in graph.nodes:
        where = f"%{node.name} ({node.op})"
        if node in seen:
            raise VerifyError(f"{where} appears twice in the node list")
        if node.name in names:
            raise VerifyError(f"name %{node.name} is defined twice")
        if graph.node(node.name) is not node:
            raise VerifyError(f"{where} is not registered under its name")
        if node.graph is not graph:
            raise VerifyError(f"{where} belongs to another graph")
        for inp in node.inputs:
            if inp not in seen:
                raise VerifyError(f"{where} uses %{inp.name} before its definition")
            if node not in inp.users:
                raise VerifyError(f"{where} is missing from the users of %{inp.name}")
        for user in node.users:
            if node not in user.inputs:
                raise VerifyError(
                    f"%{user.name} is listed as a user of {where} but does not use it")
        if node.op == INPUT_OP:
            if node not in graph.inputs or node.inputs:
                raise VerifyError(f"input {where} is malformed")
        elif node.op == CONST_OP:
            if node.inputs or not isinstance(node.type, TensorType):
                raise VerifyError(f"constant {where} is malformed")
            if node.value is not None and (tuple(node.value.shape) != node.type.shape
                                           or str(node.value.dtype) != node.type.dtype):
                raise VerifyError(f"constant {where}: value {node.value.dtype}"
                                  f"{list(node.value.shape)} does not match type {node.type}")
        else:
            try:
                attrs = normalize_attrs(node.op, node.attrs)
                if attrs != node.attrs:
                    raise VerifyError(f"{where}: attributes are not normalized")
                inferred = infer_type(node.op, [i.type for i in node.inputs], node.attrs)
            except VerifyError:
                raise
            except EdgeccError as exc:
                raise VerifyError(f"{where}: {exc}") from exc
            if not type_refines(node.type, inferred):
                raise VerifyError(f"{where} has type {node.type} but its rule gives {inferred}")
        seen.add(node)
        names.add(node.name)
    for i in graph.inputs:
        if i not in seen:
            raise VerifyError(f"graph input %{i.name} is not in the node list")
    if len(graph.outputs) != len(graph.output_names) or not graph.outputs:
        raise VerifyError("the graph needs outputs, one name each")
    for o in graph.outputs:
        if o not in seen:
            raise VerifyError(f"output %{o.name} is not in the graph")
    if len(set(graph.output_names)) != len(graph.output_names):
        raise VerifyError(f"output names repeat: {graph.output_names}")
