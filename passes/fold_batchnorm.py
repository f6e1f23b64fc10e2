"""fold-batchnorm: fold an inference batch norm into the Conv / Dense / MatMul before it.

Requires: the producer's weights and bias and the batch norm's parameters are constants, and the
producer has no other user. Guarantees: such batch norms are gone; the producer's weights are
scaled per output channel and a bias is added (for MatMul, as a following `add`).

    before:  %1 = nn.conv2d(%x, %w) : f32[1,8,6,6]
             %2 = nn.batch_norm(%1, %g, %b, %m, %v) : f32[1,8,6,6]
    after:   %3 = nn.conv2d(%x, %w2, %b2) : f32[1,8,6,6]
        with w2 = w * g / sqrt(v + eps) (per output channel), b2 = (0 - m) * g / sqrt(v + eps) + b
"""

from __future__ import annotations

import numpy as np

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass


def _consts(nodes: tuple[Node, ...]) -> list[np.ndarray] | None:
    if all(n.is_const and n.value is not None for n in nodes):
        return [n.value for n in nodes]  # type: ignore[misc]
    return None


def _channel_axis_ok(producer: Node, bn: Node) -> bool:
    rank = len(bn.shape)
    axis = bn.attrs["axis"] % rank
    if producer.op == "nn.conv2d":
        return (axis == 1 and producer.attrs.get("layout", "NCHW") == "NCHW"
                and producer.attrs.get("kernel_layout", "OIHW") == "OIHW")
    # dense / matmul: channels are the last axis of the output
    return axis == rank - 1


def _fold(graph: Graph, bn: Node) -> bool:
    producer = bn.inputs[0]
    if producer.op not in ("nn.conv2d", "nn.dense", "nn.matmul"):
        return False
    if producer.attrs.get("weight_layout", "NK") != "NK":  # a packed dense weight: not here
        return False
    if len(producer.users) != 1 or graph.is_output(producer) or not _channel_axis_ok(producer, bn):
        return False
    params = _consts(bn.inputs[1:])
    weights = _consts(producer.inputs[1:])
    if params is None or weights is None:
        return False
    gamma, beta, mean, var = (p.astype(np.float64) for p in params)
    scale = gamma / np.sqrt(var + bn.attrs["epsilon"])
    shift = beta - mean * scale
    w = weights[0].astype(np.float64)
    bias = weights[1].astype(np.float64) if len(weights) > 1 else np.zeros_like(scale)
    dtype = producer.dtype
    if producer.op == "nn.conv2d":       # w: [O, I/g, kh, kw]
        w2 = w * scale.reshape(-1, 1, 1, 1)
    elif producer.op == "nn.dense":      # w: [N, K]
        w2 = w * scale.reshape(-1, 1)
    else:                                # matmul: b is [..., K, N]
        if w.ndim < 2:
            return False
        w2 = w * scale
    b2 = (bias * scale + shift).astype(dtype)
    with graph.inserting_before(bn):
        w_node = graph.add_const(w2.astype(dtype), name=f"{producer.name}_w_bn")
        b_node = graph.add_const(b2, name=f"{producer.name}_b_bn")
        if producer.op == "nn.matmul":
            mm = graph.create_node("nn.matmul", [producer.inputs[0], w_node], producer.attrs)
            new = graph.create_node("add", [mm, b_node])
        else:
            new = graph.create_node(producer.op, [producer.inputs[0], w_node, b_node],
                                    producer.attrs)
    new.meta.update(producer.meta)
    old_consts = [n for n in (*bn.inputs[1:], *producer.inputs[1:]) if n.is_const]
    graph.replace_all_uses_with(bn, new)
    graph.erase_node(bn)
    graph.erase_node(producer)
    for const in dict.fromkeys(old_consts):  # the old weights and statistics, if now unused
        if not const.users and not graph.is_output(const):
            graph.erase_node(const)
    return True


@register_pass("fold-batchnorm")
def fold_batchnorm(graph: Graph, ctx: PassContext) -> bool:
    """Fold batch norms into the preceding conv2d / dense / matmul."""
    folded = 0
    for node in list(graph.nodes):
        if node.op == "nn.batch_norm" and node in graph and _fold(graph, node):
            folded += 1
    ctx.count("fold-batchnorm.folded", folded)
    return folded > 0
