"""fuse-ops: group nodes into kernels by their op patterns (`node.meta["group"]`).

Requires: nothing (tuple-typed ops stay alone). Guarantees: every op node has a group id;
each group is a chain of single-use edges ending in the group's one output, so it is convex
and runs as one kernel. The rules, with P the producer's group and n the consumer:

- conv/dense/matmul (out-elementwise-fusable) absorb elementwise and broadcast consumers:
  bias add, activation, residual add, clip;
- chains of elementwise / broadcast / injective ops form one group;
- a reduction (softmax, layer norm, mean) absorbs injective producers and elementwise
  consumers, but two reductions are never fused;
- opaque ops (pooling with windows, lrn) stay alone;
- a group grows to at most `max-depth` nodes.

    before:  %1 = nn.conv2d(%x, %w) ...        after: the same nodes, with
             %2 = add(%1, %b) ...                     %1, %2, %3 in group 0
             %3 = nn.relu(%2) ...
"""

from __future__ import annotations

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ops.registry import OpPattern, get_op
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass

INJECTIVE_LIKE = (OpPattern.ELEMWISE, OpPattern.BROADCAST, OpPattern.INJECTIVE)


def _pattern(node: Node) -> OpPattern:
    if isinstance(node.type, tuple) or node.op == "get_item":
        return OpPattern.OPAQUE
    return get_op(node.op).pattern


def _can_join(group_kind: OpPattern, n_kind: OpPattern) -> bool:
    """May a consumer of pattern `n_kind` join a group whose strongest pattern is `group_kind`?"""
    if n_kind in (OpPattern.OPAQUE, OpPattern.TUPLE, OpPattern.OUT_ELEMWISE_FUSABLE):
        return False
    if group_kind == OpPattern.OUT_ELEMWISE_FUSABLE:
        return n_kind in (OpPattern.ELEMWISE, OpPattern.BROADCAST)
    if group_kind == OpPattern.REDUCTION:
        return n_kind in (OpPattern.ELEMWISE, OpPattern.BROADCAST)
    if group_kind in INJECTIVE_LIKE:
        return n_kind in INJECTIVE_LIKE or n_kind == OpPattern.REDUCTION
    return False


def _strongest(a: OpPattern, b: OpPattern) -> OpPattern:
    return a if int(a) >= int(b) else b


@register_pass("fuse-ops")
def fuse_ops(graph: Graph, ctx: PassContext, *, max_depth: int = 32) -> bool:
    """Assign every op node a fusion group (`meta["group"]`)."""
    group_of: dict[Node, int] = {}
    kind: dict[int, OpPattern] = {}
    size: dict[int, int] = {}
    next_id = 0
    for node in graph.ops():
        mine = _pattern(node)
        joined = None
        for producer in dict.fromkeys(node.inputs):
            gid = group_of.get(producer)
            if gid is None or len(producer.users) != 1 or graph.is_output(producer):
                continue
            if size[gid] >= max_depth or not _can_join(kind[gid], mine):
                continue
            joined = gid
            break
        if joined is None:
            joined, next_id = next_id, next_id + 1
            kind[joined], size[joined] = mine, 0
        group_of[node] = joined
        kind[joined] = _strongest(kind[joined], mine)
        size[joined] += 1
    changed = False
    for node, gid in group_of.items():
        if node.meta.get("group") != gid:
            node.meta["group"] = gid
            changed = True
    ctx.count("fuse-ops.groups", next_id)
    return changed
