"""Structural equality of graphs, for tests: same ops, attributes, types, wiring and constants."""

from __future__ import annotations

import numpy as np

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node


def structural_diff(a: Graph, b: Graph, *, names: bool = False) -> str | None:
    """None when `a` and `b` are structurally equal, else a sentence naming the first difference.

    Nodes are matched in order; names are ignored unless `names` is set (output names always count).
    """
    na, nb = a.nodes, b.nodes
    if len(na) != len(nb):
        return f"{len(na)} nodes vs {len(nb)} nodes"
    index_a = {n: i for i, n in enumerate(na)}
    index_b = {n: i for i, n in enumerate(nb)}
    for x, y in zip(na, nb):
        where = f"node {index_a[x]} (%{x.name} vs %{y.name})"
        if names and x.name != y.name:
            return f"{where}: names differ"
        if x.op != y.op:
            return f"{where}: op {x.op} vs {y.op}"
        if x.type != y.type:
            return f"{where}: type {x.type} vs {y.type}"
        if x.attrs != y.attrs:
            return f"{where}: attrs {x.attrs} vs {y.attrs}"
        if [index_a[i] for i in x.inputs] != [index_b[i] for i in y.inputs]:
            return f"{where}: inputs differ"
        if x.is_const and not _same_value(x, y):
            return f"{where}: constant values differ"
    if [index_a[n] for n in a.outputs] != [index_b[n] for n in b.outputs]:
        return "outputs differ"
    if a.output_names != b.output_names:
        return f"output names {a.output_names} vs {b.output_names}"
    return None


def _same_value(x: Node, y: Node) -> bool:
    if x.value is None or y.value is None:
        return x.value is None and y.value is None
    return x.value.shape == y.value.shape and bool(np.array_equal(x.value, y.value, equal_nan=True))


def structural_equal(a: Graph, b: Graph, *, names: bool = False) -> bool:
    return structural_diff(a, b, names=names) is None
