"""Whole-graph figures: op counts, parameters, MACs, tensor sizes, the largest activation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ir.types import TensorType


@dataclass
class GraphStats:
    op_counts: Counter = field(default_factory=Counter)
    num_params: int = 0
    param_bytes: int = 0
    num_consts: int = 0
    macs: int = 0
    macs_by_op: Counter = field(default_factory=Counter)
    largest_activation: tuple[str, int] = ("", 0)
    activation_bytes: int = 0  # sum over all activations (no reuse): an upper bound on memory


def node_macs(node: Node) -> int:
    """The MAC count of one node (0 for ops that do not multiply-accumulate)."""
    from edgecc.ops.registry import get_op

    if node.is_const or node.is_input:
        return 0
    fn = get_op(node.op).macs
    return int(fn([i.type for i in node.inputs], node.type, node.attrs)) if fn else 0  # type: ignore[arg-type]


def _bytes(t: object) -> int:
    if isinstance(t, TensorType):
        return t.nbytes
    return sum(x.nbytes for x in t)  # type: ignore[attr-defined]


def graph_stats(graph: Graph) -> GraphStats:
    s = GraphStats()
    for node in graph.nodes:
        if node.is_const:
            s.num_consts += 1
            s.num_params += node.ttype.numel
            s.param_bytes += node.ttype.nbytes
            continue
        if not node.is_input:
            s.op_counts[node.op] += 1
            m = node_macs(node)
            s.macs += m
            s.macs_by_op[node.op] += m
        b = _bytes(node.type)
        s.activation_bytes += b
        if b > s.largest_activation[1]:
            s.largest_activation = (node.name, b)
    return s


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n} B"


def human_count(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.3f} {unit}"
    return f"{n:.0f}"
