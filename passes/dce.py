"""dce: remove nodes (and constants) whose values nothing uses.

Requires: nothing. Guarantees: every non-input node is used by another node or is an output.

    before:  %1 = exp(%x) : f32[4]          after:  %2 = neg(%x) : f32[4]
             %2 = neg(%x) : f32[4]                  return %2
             return %2
"""

from __future__ import annotations

from edgecc.ir.graph import Graph
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass


@register_pass("dce")
def dce(graph: Graph, ctx: PassContext) -> bool:
    """Remove unused nodes and constants."""
    removed = 0
    for node in reversed(list(graph.nodes)):
        if node.is_input or node.users or graph.is_output(node):
            continue
        graph.erase_node(node)
        removed += 1
    ctx.count("dce.removed", removed)
    return removed > 0
