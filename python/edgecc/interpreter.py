"""The reference interpreter: runs any `Graph` with the ops' numpy references.

It is the oracle of every test: a pass is correct when the interpreter gives the same values
before and after it, a kernel when it matches the interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from edgecc.errors import EdgeccError, InputError, InterpreterError
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ir.types import TensorType, Type, canonical_dtype


def check_inputs(graph: Graph, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Validate run-time inputs against the graph's input types; returns them as arrays."""
    names = [n.name for n in graph.inputs]
    missing = [n for n in names if n not in inputs]
    extra = [n for n in inputs if n not in names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing input(s) {missing}")
        if extra:
            parts.append(f"unknown input(s) {extra}")
        raise InputError("; ".join(parts) + f"; the graph's inputs are {names}")
    out = {}
    for node in graph.inputs:
        arr = np.asarray(inputs[node.name])
        want = node.ttype
        if tuple(arr.shape) != want.shape:
            raise InputError(f"input {node.name!r}: shape {list(arr.shape)}, expected "
                             f"{list(want.shape)}")
        if canonical_dtype(arr.dtype) != want.dtype:
            raise InputError(f"input {node.name!r}: dtype {arr.dtype}, expected {want.dtype}")
        out[node.name] = arr
    return out


def _check_value(node: Node, value: Any, t: Type) -> Any:
    if isinstance(t, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(t):
            raise InterpreterError(f"%{node.name} ({node.op}): reference returned "
                                   f"{type(value).__name__}, expected {len(t)} outputs")
        return tuple(_check_value(node, v, ti) for v, ti in zip(value, t))
    arr = np.asarray(value)
    assert isinstance(t, TensorType)
    if tuple(arr.shape) != t.shape:
        raise InterpreterError(f"%{node.name} ({node.op}): reference gave shape "
                               f"{list(arr.shape)}, the type rule says {t}")
    if canonical_dtype(arr.dtype) != t.dtype:
        arr = arr.astype(t.dtype)  # numpy promotes scalars; the IR type decides
    return arr


def run(graph: Graph, inputs: Mapping[str, Any], *,
        keep_all: bool = False) -> dict[str, np.ndarray]:
    """Run `graph` on `inputs` (name -> array); returns outputs by output name.

    With `keep_all`, returns every node's value by node name instead (for debugging).
    """
    from edgecc.ops.registry import get_op

    values: dict[Node, Any] = {}
    feeds = check_inputs(graph, inputs)
    remaining = {n: len(n.users) for n in graph.nodes}
    outputs = set(graph.outputs)
    for node in graph.nodes:
        if node.is_input:
            values[node] = feeds[node.name]
            continue
        if node.is_const:
            if node.value is None:
                raise InterpreterError(f"constant %{node.name} has no value")
            values[node] = node.value
            continue
        ref = get_op(node.op).ref
        if ref is None:
            raise InterpreterError(f"op {node.op} (%{node.name}) has no reference implementation")
        args = [values[i] for i in node.inputs]
        try:
            result = ref(*args, **node.attrs)
        except EdgeccError:
            raise
        except Exception as exc:
            raise InterpreterError(
                f"%{node.name} = {node.op}: {type(exc).__name__}: {exc}") from exc
        values[node] = _check_value(node, result, node.type)
        if not keep_all:
            for inp in dict.fromkeys(node.inputs):  # users counts each user once
                remaining[inp] -= 1
                if remaining[inp] == 0 and inp not in outputs:
                    del values[inp]
    if keep_all:
        return {n.name: v for n, v in values.items()}
    return {name: values[n] for name, n in zip(graph.output_names, graph.outputs)}
