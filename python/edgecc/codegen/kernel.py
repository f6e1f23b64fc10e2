"""`Kernel`: one fused group of graph nodes, lowered and scheduled as one TVM PrimFunc.

`partition(graph)` cuts a graph into kernels: nodes sharing `meta["group"]` (set by `fuse-ops`)
form one kernel; an op node without a group is a kernel of its own. Kernels come in an order
in which every kernel's inputs are computed before it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from edgecc.errors import EdgeccError
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ir.printer import format_scalar
from edgecc.ir.types import type_str
from edgecc.ops.registry import OpPattern, get_op


@dataclass(eq=False)
class Kernel:
    """A fused group: `nodes` in graph order, the last one is the output."""

    name: str
    nodes: list[Node]
    params: list[Node]  # values computed outside the kernel, in first-use order

    @property
    def output(self) -> Node:
        return self.nodes[-1]

    @property
    def anchor(self) -> Node:
        """The node that decides the schedule: the most complex pattern, first of equals."""
        return max(self.nodes, key=lambda n: (int(get_op(n.op).pattern)
                                              if get_op(n.op).pattern != OpPattern.OPAQUE
                                              else 5, -self.nodes.index(n)))

    @cached_property
    def workload(self) -> dict[str, Any]:
        """What the kernel computes, independent of node names: the key of tuning records."""
        index = {n: i for i, n in enumerate(self.params)}
        body = []
        for k, n in enumerate(self.nodes):
            index[n] = len(self.params) + k
            body.append([n.op, [index[i] for i in n.inputs],
                         {a: format_scalar(v) for a, v in n.attrs.items()}])
        return {"params": [type_str(p.type) for p in self.params], "body": body,
                "output": type_str(self.output.type)}

    @cached_property
    def workload_key(self) -> str:
        text = json.dumps(self.workload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def describe(self) -> str:
        return "+".join(n.op for n in self.nodes)


def partition(graph: Graph) -> list[Kernel]:
    """The kernels of `graph`, in an order that respects their data dependences."""
    groups: dict[object, list[Node]] = {}
    for i, node in enumerate(graph.ops()):
        if isinstance(node.type, tuple) or node.op == "get_item":
            raise EdgeccError(f"%{node.name} ({node.op}) is tuple-typed: run the codegen "
                              "pipeline (lower-tuples) before partitioning")
        key = node.meta.get("group", ("solo", i))
        groups.setdefault(key, []).append(node)
    position = {n: i for i, n in enumerate(graph.nodes)}
    kernels = []
    for members in sorted(groups.values(), key=lambda ns: position[ns[-1]]):
        inside = set(members)
        params: list[Node] = []
        for n in members:
            for inp in n.inputs:
                if inp not in inside and inp not in params:
                    params.append(inp)
        for n in members[:-1]:
            outside = [u for u in n.users if u not in inside]
            if outside or graph.is_output(n):
                raise EdgeccError(f"group {n.meta.get('group')}: %{n.name} is used outside its "
                                  "kernel but is not the kernel's output")
        kernels.append(Kernel("", members, params))
    for k, kernel in enumerate(kernels):
        ops = "_".join(n.op.split(".")[-1] for n in kernel.nodes[:4])
        kernel.name = f"k{k:03d}_{ops}"
    return kernels
