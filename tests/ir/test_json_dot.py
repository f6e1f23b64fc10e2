"""JSON form (with constant data) and DOT form."""

import json

import numpy as np
import pytest

from edgecc.errors import EdgeccError
from edgecc.ir.compare import structural_equal
from edgecc.ir.dot import graph_to_dot
from edgecc.ir.parser import parse_graph
from edgecc.ir.serialize import graph_from_json, graph_to_json

TEXT = """\
graph @g(%x: f32[2,3]) -> f32[3,2] {
  %w = const f32[2,3]
  %1 = add(%x, %w) : f32[2,3]
  %2 = transpose(%1) {axes=(1,0)} : f32[3,2]
  %3 = clip(%2) {min=-inf} : f32[3,2]
  return %3 as "out"
}
"""


def test_json_round_trip_with_values():
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    g = parse_graph(TEXT, params={"w": w})
    g.node("2").meta["group"] = 7
    g2 = graph_from_json(graph_to_json(g))
    assert structural_equal(g, g2, names=True)
    assert np.array_equal(g2.node("w").value, w)
    assert g2.node("2").meta["group"] == 7
    assert g2.node("3").attrs["min"] == float("-inf")


def test_json_rejects_other_versions():
    data = json.loads(graph_to_json(parse_graph(TEXT)))
    data["version"] = 99
    with pytest.raises(EdgeccError, match="version 99"):
        graph_from_json(json.dumps(data))


def test_dot_has_nodes_edges_and_clusters():
    g = parse_graph(TEXT)
    g.node("1").meta["group"] = 0
    g.node("2").meta["group"] = 0
    dot = graph_to_dot(g)
    assert dot.startswith('digraph "g" {') and dot.rstrip().endswith("}")
    assert '"n:x" -> "n:1";' in dot and '"n:1" -> "n:2";' in dot
    assert "subgraph \"cluster_0\"" in dot
    assert dot.count("->") == 5  # x->1, w->1, 1->2, 2->3, 3->out
