"""The networkx view of a graph."""

import networkx as nx

from edgecc.ir.analysis import to_networkx
from edgecc.ir.parser import parse_graph

TEXT = """
graph @main(%x: f32[4]) -> f32[4] {
  %c = const f32[4]
  %1 = exp(%x) : f32[4]
  %2 = add(%1, %c) : f32[4]
  %3 = mul(%1, %2) : f32[4]
  return %3
}"""


def test_view_follows_the_wiring():
    g = to_networkx(parse_graph(TEXT))
    assert set(g.nodes) == {"x", "1", "2", "3"}
    assert set(g.edges) == {("x", "1"), ("1", "2"), ("1", "3"), ("2", "3")}
    assert g.nodes["2"]["op"] == "add" and g.nodes["3"]["index"] == 4
    assert nx.immediate_dominators(g, "x")["3"] == "1"
    with_consts = to_networkx(parse_graph(TEXT), consts=True)
    assert ("c", "2") in with_consts.edges
