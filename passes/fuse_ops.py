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
- a "diamond" (a value read by several elementwise ops that meet again, as in
  gelu = x * (1 + erf(x / sqrt 2)) / 2) joins the group as a whole, or not at all;
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


DIAMOND_LIMIT = 8  # nodes between a shared value and where its users meet again


def _diamond(graph: Graph, root: Node, position: dict[Node, int]) -> list[Node] | None:
    """The elementwise nodes from `root` to the closest node where all its uses meet again.

    Returns them in graph order (the meeting node last) when every node on the way is
    elementwise/broadcast, has all its users on the way, and there are at most DIAMOND_LIMIT;
    else None.
    """
    reach: list[Node] = []
    frontier = list(root.users)
    while frontier and len(reach) <= DIAMOND_LIMIT:
        node = frontier.pop()
        if node in reach or _pattern(node) not in (OpPattern.ELEMWISE, OpPattern.BROADCAST):
            continue
        reach.append(node)
        frontier.extend(node.users)
    reach.sort(key=lambda n: position[n])
    for end in reach:
        between = _ancestors_within(end, set(reach), root)
        region = set(between) | {end}
        if not all(u in region for u in root.users):
            continue
        if all(not graph.is_output(m) and all(u in region for u in m.users) for m in between):
            return sorted(region, key=lambda n: position[n])
    return None


def _ancestors_within(end: Node, allowed: set[Node], root: Node) -> list[Node]:
    """Nodes of `allowed` on some path from `root` to `end` (excluding both)."""
    found: set[Node] = set()
    stack = [i for i in end.inputs if i in allowed]
    while stack:
        node = stack.pop()
        if node in found:
            continue
        found.add(node)
        stack.extend(i for i in node.inputs if i in allowed)
    return [n for n in found if _reaches(root, n)]


def _reaches(root: Node, node: Node) -> bool:
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if n is root:
            return True
        if n not in seen:
            seen.add(n)
            stack.extend(n.inputs)
    return False


@register_pass("fuse-ops")
def fuse_ops(graph: Graph, ctx: PassContext, *, max_depth: int = 32) -> bool:
    """Assign every op node a fusion group (`meta["group"]`)."""
    group_of: dict[Node, int] = {}
    kind: dict[int, OpPattern] = {}
    size: dict[int, int] = {}
    next_id = 0
    position = {n: i for i, n in enumerate(graph.nodes)}
    region_of: dict[Node, tuple[Node, list[Node]]] = {}
    for root in graph.ops():
        if len(root.users) > 1 and not graph.is_output(root):
            region = _diamond(graph, root, position)
            for member in region or ():
                region_of.setdefault(member, (root, region))
    forced: dict[Node, int] = {}
    for node in graph.ops():
        if node in forced:
            gid = forced[node]
            group_of[node] = gid
            kind[gid] = _strongest(kind[gid], _pattern(node))
            size[gid] += 1
            continue
        mine = _pattern(node)
        joined = None
        if node in region_of:
            root, region = region_of[node]
            gid = group_of.get(root)
            if (gid is not None and region[0] is node and size[gid] + len(region) <= max_depth
                    and all(_can_join(kind[gid], _pattern(m)) for m in region)):
                for member in region[1:]:
                    forced[member] = gid
                joined = gid
                ctx.count("fuse-ops.diamonds")
        for producer in dict.fromkeys(node.inputs) if joined is None else ():
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
