"""split-to-slices: replace `get_item(split(x))` by one `slice` of x per used piece.

Requires: nothing. Guarantees: no `split` and no `get_item` of a split remain, so every value
is a single tensor (what kernel partitioning needs).

    before:  %1 = split(%x) {axis=1, sizes=(2,3)} : (f32[4,2], f32[4,3])
             %2 = get_item(%1) {index=1} : f32[4,3]
    after:   %3 = slice(%x) {starts=(2,), ends=(5,), axes=(1,), steps=(1,)} : f32[4,3]
"""

from __future__ import annotations

from edgecc.ir.graph import Graph
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass


@register_pass("split-to-slices")
def split_to_slices(graph: Graph, ctx: PassContext) -> bool:
    """Turn each used piece of a split into a slice."""
    changed = False
    for split in [n for n in graph.ops() if n.op == "split"]:
        if graph.is_output(split):
            continue  # a tuple output stays as it is (the interpreter can return it)
        axis, sizes = split.attrs["axis"], split.attrs["sizes"]
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        for item in list(split.users):
            if item.op != "get_item":
                continue
            i = item.attrs["index"]
            with graph.inserting_before(item):
                piece = graph.create_node("slice", [split.inputs[0]], {
                    "starts": (starts[i],), "ends": (starts[i] + sizes[i],), "axes": (axis,),
                    "steps": (1,)})
            piece.meta.update(item.meta)
            graph.replace_all_uses_with(item, piece)
            graph.erase_node(item)
            changed = True
        if not split.users:
            graph.erase_node(split)
    ctx.count("split-to-slices", int(changed))
    return changed
