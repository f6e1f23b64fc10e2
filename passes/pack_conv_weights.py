"""pack-conv-weights: block constant conv2d weights for the NCHW[x]c convolution kernels.

Requires: nothing; a conv is packed when its weights are a float32 constant with a value and its
kernel_layout is OIHW. Guarantees: every such nn.conv2d whose output channels per group are a
multiple of `oc-block` (depthwise, groups = C = OC: C a multiple of `oc-block`, input block 1)
reads weights blocked as [OC/o, C/groups/i, KH, KW, i, o] and has kernel_layout="OIHW{i}i{o}o";
its inputs, output and values are unchanged. A constant used by several convs is packed once;
the OIHW constant is erased when nothing else uses it. Convs it cannot pack are left alone.

`ic-block` 0 chooses, per conv, the largest divisor of C/groups that is at most the oc block; a
given `ic-block` that does not divide C/groups leaves that conv alone. `min-oc-block` (0: off)
lets a conv whose channels are not a multiple of `oc-block` take the first of oc-block/2,
oc-block/4, ... (not below `min-oc-block`) that divides them: MobileNetV2's 24-channel convs
get blocks of 8 with `oc-block=16 min-oc-block=8`.

    before:  %w = const f32[32,16,3,3]
             %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,32,28,28]
    after (oc-block=16):
             %w_16i16o = const f32[2,1,3,3,16,16]
             %1 = nn.conv2d(%x, %w_16i16o) {pads=(1,1,1,1), kernel_layout="OIHW16i16o"}
                 : f32[1,32,28,28]
"""

from __future__ import annotations

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ops.nn_conv import blocked_kernel_layout, pack_kernel
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass


def choose_ic_block(channels_per_group: int, oc_block: int) -> int:
    """The largest divisor of `channels_per_group` that is at most `oc_block`."""
    return max(d for d in range(1, min(channels_per_group, oc_block) + 1)
               if channels_per_group % d == 0)


def conv_blocks(conv: Node, oc_block: int, ic_block: int,
                min_oc_block: int = 0) -> tuple[int, int] | None:
    """(ic block, oc block) to pack `conv`'s weights with, or None when it cannot be packed.

    The oc block is `oc_block`, else (with `min_oc_block`) the first of oc_block/2, /4, ...
    down to `min_oc_block` that divides the conv's output channels per group.
    """
    if conv.attrs.get("kernel_layout", "OIHW") != "OIHW" or oc_block < 1 or ic_block < 0:
        return None
    w = conv.inputs[1]
    if not w.is_const or w.value is None or w.dtype != "float32" or len(w.shape) != 4:
        return None
    oc, cg, _, _ = w.shape
    groups = conv.attrs["groups"]
    depthwise = groups > 1 and groups == conv.inputs[0].shape[1] == oc and cg == 1
    per_group = oc if depthwise else oc // groups
    ob = oc_block
    while per_group % ob:
        if ob % 2 or ob // 2 < max(1, min_oc_block) or not min_oc_block:
            return None
        ob //= 2
    if depthwise:
        return 1, ob
    ib = ic_block or choose_ic_block(cg, ob)
    return (ib, ob) if cg % ib == 0 else None


@register_pass("pack-conv-weights")
def pack_conv_weights(graph: Graph, ctx: PassContext, *, oc_block: int = 16,
                      ic_block: int = 0, min_oc_block: int = 0) -> bool:
    """Block constant conv2d weights [OC/o, C/groups/i, KH, KW, i, o] (kernel_layout)."""
    packed: dict[tuple[Node, int, int], Node] = {}
    convs = 0
    for conv in list(graph.ops()):
        if conv.op != "nn.conv2d":
            continue
        blocks = conv_blocks(conv, oc_block, ic_block, min_oc_block)
        if blocks is None:
            continue
        ib, ob = blocks
        w = conv.inputs[1]
        key = (w, ib, ob)
        if key not in packed:
            assert w.value is not None
            with graph.inserting_before(w):
                packed[key] = graph.add_const(pack_kernel(w.value, ib, ob),
                                              name=f"{w.name}_{ib}i{ob}o")
        conv.inputs = (conv.inputs[0], packed[key], *conv.inputs[2:])
        conv.attrs["kernel_layout"] = blocked_kernel_layout(ib, ob)
        convs += 1
    for w in dict.fromkeys(key[0] for key in packed):
        if not w.users and not graph.is_output(w):
            graph.erase_node(w)
    ctx.count("pack-conv-weights.convs", convs)
    ctx.count("pack-conv-weights.constants", len(packed))
    return convs > 0
