"""simplify: local rewrites that remove work without changing values.

Requires: nothing. Guarantees: none of the rules below matches anywhere (run to a fixpoint).
Each rule is `(op, fn)`; `fn(graph, node)` returns the node that replaces `node`, or None.

    before:  %1 = transpose(%x) {axes=(0,2,3,1)} : f32[1,4,4,3]
             %2 = transpose(%1) {axes=(0,3,1,2)} : f32[1,3,4,4]
             %3 = identity(%2) : f32[1,3,4,4]
             return %3
    after:   return %x
"""

from __future__ import annotations

from collections.abc import Callable

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass

Rule = Callable[[Graph, Node], Node | None]


def _same_type(a: Node, b: Node) -> bool:
    return a.type == b.type


def _identity(graph: Graph, node: Node) -> Node | None:
    # identity(x) -> x
    return node.inputs[0]


def _dropout(graph: Graph, node: Node) -> Node | None:
    # dropout(x) -> x  (inference)
    return node.inputs[0] if _same_type(node, node.inputs[0]) else None


def _reshape(graph: Graph, node: Node) -> Node | None:
    x = node.inputs[0]
    # reshape(x) -> x  when the shape does not change
    if _same_type(node, x):
        return x
    # reshape(reshape(x)) -> reshape(x)
    if x.op == "reshape":
        with graph.inserting_before(node):
            return graph.create_node("reshape", [x.inputs[0]], dict(node.attrs))
    return None


def _transpose(graph: Graph, node: Node) -> Node | None:
    x = node.inputs[0]
    axes = node.attrs["axes"]
    # transpose(x) {axes=(0,1,...)} -> x
    if tuple(axes) == tuple(range(len(axes))):
        return x
    # transpose(transpose(x, p), q) -> transpose(x, p[q])  (x itself when p[q] is the identity)
    if x.op == "transpose":
        inner = x.attrs["axes"]
        composed = tuple(inner[a] for a in axes)
        if composed == tuple(range(len(composed))):
            return x.inputs[0]
        with graph.inserting_before(node):
            return graph.create_node("transpose", [x.inputs[0]], {"axes": composed})
    return None


def _cast(graph: Graph, node: Node) -> Node | None:
    x = node.inputs[0]
    # cast(x) {dtype=x.dtype} -> x
    if node.attrs["dtype"] == x.dtype:
        return x
    return None


RULES: dict[str, Rule] = {
    "identity": _identity,
    "nn.dropout": _dropout,
    "reshape": _reshape,
    "transpose": _transpose,
    "cast": _cast,
}


@register_pass("simplify")
def simplify(graph: Graph, ctx: PassContext, *, max_rounds: int = 16) -> bool:
    """Apply the rewrite rules to a fixpoint, then drop what became unused."""
    changed_any = False
    for _ in range(max_rounds):
        changed = False
        orphans: list[Node] = []
        for node in list(graph.nodes):
            if node not in graph or node.op not in RULES:
                continue
            new = RULES[node.op](graph, node)
            if new is None or new is node:
                continue
            graph.replace_all_uses_with(node, new)
            orphans.extend(node.inputs)
            graph.erase_node(node)
            ctx.count(f"simplify.{node.op}")
            changed = True
        _drop_orphans(graph, orphans)
        changed_any |= changed
        if not changed:
            break
    return changed_any


def _drop_orphans(graph: Graph, candidates: list[Node]) -> None:
    # A rewrite can leave the producers it bypassed (an inner transpose) without users: remove
    # those, and what only they used. Nodes that were unused before are dce's business.
    while candidates:
        node = candidates.pop()
        if node in graph and not node.is_input and not node.users and not graph.is_output(node):
            candidates.extend(node.inputs)
            graph.erase_node(node)
