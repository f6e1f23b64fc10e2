"""networkx views of a graph for analyses (dominators, reachability, colouring), built on demand."""

from __future__ import annotations

import networkx as nx

from edgecc.ir.graph import Graph


def to_networkx(graph: Graph, *, consts: bool = False) -> nx.DiGraph:
    """A DiGraph keyed by node name with `op`, `type` and `index` (position) node attributes."""
    g = nx.DiGraph()
    for i, n in enumerate(graph.nodes):
        if n.is_const and not consts:
            continue
        g.add_node(n.name, op=n.op, type=n.type, index=i)
        for inp in n.inputs:
            if inp.is_const and not consts:
                continue
            g.add_edge(inp.name, n.name)
    return g
