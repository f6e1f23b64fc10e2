"""pack-dense-weights: pack constant dense weights [N, K] into N-blocks [N/n, K, n] at compile time.

Requires: nothing. Guarantees: every `nn.dense` whose weight is a constant with a known value,
in layout `NK`, with N a multiple of `n-block`, reads a packed copy of it in layout `NK{n}n`
(`w_packed[j // n, k, j % n] = w[j, k]`) and has `weight_layout="NK{n}n"`; its type is
unchanged. A constant shared by several denses is packed once; an old weight left without users
is erased. Other denses (run-time weights, N not a multiple of n, already packed) are untouched.
The packed layout lets a kernel load n consecutive outputs' weights for one k as one vector
(n = the target's float32 vector lanes: 16 with AVX-512, 8 with AVX2).

    before:  %w = const f32[32,64]
             %1 = nn.dense(%x, %w, %b) : f32[4,32]
    after:   %w_nk16n = const f32[2,64,16]
             %1 = nn.dense(%x, %w_nk16n, %b) {weight_layout="NK16n"} : f32[4,32]
"""

from __future__ import annotations

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ops.nn import pack_dense_weight
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass


def _packable(node: Node, n_block: int) -> bool:
    if node.op != "nn.dense" or node.attrs.get("weight_layout", "NK") != "NK":
        return False
    w = node.inputs[1]
    return (w.is_const and w.value is not None and w.value.ndim == 2
            and w.value.shape[0] % n_block == 0)


@register_pass("pack-dense-weights")
def pack_dense_weights(graph: Graph, ctx: PassContext, *, n_block: int = 16) -> bool:
    """Pack constant dense weights into N-blocks of `n-block` outputs (layout NK{n}n)."""
    if n_block < 1:
        raise ValueError(f"pack-dense-weights: n-block must be positive, got {n_block}")
    layout = f"NK{n_block}n"
    packed: dict[Node, Node] = {}  # old weight -> its packed copy (shared constants once)
    count = 0
    for node in list(graph.ops()):
        if not _packable(node, n_block):
            continue
        w = node.inputs[1]
        if w not in packed:
            assert w.value is not None
            with graph.inserting_after(w):
                packed[w] = graph.add_const(pack_dense_weight(w.value, n_block),
                                            name=f"{w.name}_nk{n_block}n")
        x, _, *bias = node.inputs
        node.inputs = (x, packed[w], *bias)
        node.attrs = {**node.attrs, "weight_layout": layout}
        count += 1
    for w in packed:
        if not w.users and not graph.is_output(w):
            graph.erase_node(w)
    ctx.count("pack-dense-weights.packed", count)
    return count > 0
