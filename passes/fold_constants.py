"""fold-constants: compute nodes whose inputs are all constants, at compile time.

Requires: every folded op has a numpy reference. Guarantees: no foldable node is left whose
result fits the size rule: a result is folded when it is at most `max_bytes`, or no larger than
the constants it reads (so folding never grows the model: a transposed weight folds whatever
its size, a broadcast that would blow up a small constant does not).

    before:  %w = const f32[4,8]                 after:  %1 = const f32[8,4]
             %1 = transpose(%w) {axes=(1,0)} : f32[8,4]
"""

from __future__ import annotations

import numpy as np

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ops.registry import get_op
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass


def _foldable(node: Node, max_bytes: int) -> bool:
    if node.is_const or node.is_input or not node.inputs or isinstance(node.type, tuple):
        return False
    if not all(i.is_const and i.value is not None for i in node.inputs):
        return False
    if get_op(node.op).ref is None:
        return False
    read = sum(i.ttype.nbytes for i in dict.fromkeys(node.inputs))
    return node.ttype.nbytes <= max(max_bytes, read)


@register_pass("fold-constants")
def fold_constants(graph: Graph, ctx: PassContext, *, max_bytes: int = 1 << 20) -> bool:
    """Evaluate all-constant nodes with their references and replace them by constants."""
    folded = 0
    for node in list(graph.nodes):
        if not _foldable(node, max_bytes):
            continue
        ref = get_op(node.op).ref
        assert ref is not None
        value = np.asarray(ref(*[i.value for i in node.inputs], **node.attrs))
        value = np.ascontiguousarray(value.astype(node.dtype, copy=False).reshape(node.shape))
        with graph.inserting_before(node):
            const = graph.add_const(value, name=f"{node.name}_folded", type=node.ttype)
        const.meta.update(node.meta)
        graph.replace_all_uses_with(node, const)
        graph.erase_node(node)
        folded += 1
    for node in reversed(list(graph.nodes)):  # constants only the folded nodes read
        if node.is_const and not node.users and not graph.is_output(node):
            graph.erase_node(node)
    ctx.count("fold-constants.folded", folded)
    return folded > 0
