"""plan-memory: live ranges, in-place reuse, packing, and a layout that really runs.

Every plan is checked twice: by `check_plan` (no two live buffers share bytes) and by running
the graph's kernels inside one byte arena laid out by the plan (`_run_in_arena`): a buffer
overwritten while still needed would change the outputs against the reference interpreter.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import onnx
import pytest

from edgecc.cli.common import random_inputs
from edgecc.codegen.kernel import partition
from edgecc.errors import EdgeccError, PassError, VerifyError
from edgecc.frontend.onnx import from_onnx
from edgecc.interpreter import run
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ir.parser import parse_graph
from edgecc.ir.printer import print_graph
from edgecc.ir.types import TensorType
from edgecc.ops.registry import OpPattern, get_op
from edgecc.passes.plan_memory import (
    IN_PLACE_OPS,
    META_KEYS,
    MemoryPlan,
    check_plan,
    plan_memory,
)
from edgecc.testing import zoo
from edgecc.transform import PassContext, run_pipeline
from edgecc.transform.instruments import VerifyEach
from edgecc.transform.registry import get_pass

T = 2048  # bytes of f32[1,8,8,8]


# ------------------------------------------------------------------------------ helpers
def _run_in_arena(graph: Graph, plan: MemoryPlan, feeds: dict[str, np.ndarray],
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Run `graph` kernel by kernel, every kernel output stored only in the planned arena."""
    rng = np.random.default_rng(seed)
    arena = rng.integers(0, 256, plan.peak_bytes, dtype=np.uint8)  # garbage, not zeros

    def view(node: Node) -> np.ndarray:
        t, buf = node.ttype, plan.buffer(node.name)
        return arena[buf.offset:buf.offset + t.nbytes].view(t.dtype).reshape(t.shape)

    def value(node: Node, local: dict[Node, Any]) -> Any:
        if node in local:
            return local[node]
        if node.is_input:
            return feeds[node.name]
        if node.is_const:
            return node.value
        return view(node).copy()

    for kernel in partition(graph):
        local: dict[Node, Any] = {}
        for n in kernel.nodes:
            args = [value(i, local) for i in n.inputs]
            local[n] = np.asarray(get_op(n.op).ref(*args, **n.attrs)).astype(n.dtype)
        view(kernel.output)[...] = local[kernel.output]
    return {name: value(n, {}) for name, n in zip(graph.output_names, graph.outputs)}


def _check_runs(graph: Graph, plan: MemoryPlan, seed: int = 0) -> None:
    feeds = random_inputs(graph, seed)
    want = run(graph, feeds)
    got = _run_in_arena(graph, plan, feeds, seed)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def _plan_pass(text: str, alignment: int = 64,
               groups: dict[str, int] | None = None) -> tuple[Graph, PassContext, MemoryPlan]:
    """Parse, set fusion groups, run the pass; check it changed no node and the plan runs."""
    graph = parse_graph(text)
    rng = np.random.default_rng(0)
    for node in graph.nodes:  # the text leaves weights out
        if node.is_const and node.value is None:
            node.value = rng.standard_normal(node.shape).astype(node.dtype)
    for name, group in (groups or {}).items():
        graph.node(name).meta["group"] = group
    before = print_graph(graph)
    ctx = PassContext([VerifyEach()])
    run_pipeline(graph, f"plan-memory{{alignment={alignment}}}", ctx)
    assert print_graph(graph) == before
    plan = plan_memory(graph, alignment)
    check_plan(plan)
    _check_runs(graph, plan)
    return graph, ctx, plan


def _layout(graph: Graph) -> dict[str, tuple[Any, ...]]:
    """name -> (offset, bytes) or (offset, bytes, alias), for nodes that carry a layout."""
    out = {}
    for n in graph.ops():
        if "mem_offset" in n.meta:
            alias = (n.meta["mem_alias"],) if "mem_alias" in n.meta else ()
            out[n.name] = (n.meta["mem_offset"], n.meta["mem_bytes"], *alias)
    return out


def _stats(ctx: PassContext) -> tuple[int, int, int]:
    s = ctx.stats
    return (s["plan-memory.peak_bytes"], s["plan-memory.lower_bound_bytes"],
            s["plan-memory.buffers"])


# ------------------------------------------------------------------------------ small graphs
CHAIN = """
graph @main(%x: f32[1,8,8,8]) -> f32[1,8,8,8] {
  %w = const f32[8,8,3,3]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %2 = nn.conv2d(%1, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %3 = nn.conv2d(%2, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %4 = nn.conv2d(%3, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  return %4
}"""


def test_chain_ping_pongs_between_two_buffers():
    graph, ctx, plan = _plan_pass(CHAIN)
    assert _layout(graph) == {"1": (0, T), "2": (T, T), "3": (0, T), "4": (T, T)}
    assert _stats(ctx) == (2 * T, 2 * T, 4)
    assert [(b.name, b.start, b.end) for b in plan.arena] == [
        ("1", 0, 1), ("2", 1, 2), ("3", 2, 3), ("4", 3, 3)]
    assert plan.naive_bytes == 4 * T
    assert [(b.name, b.region, b.end) for b in plan.inputs] == [("x", "input", 0)]


def test_relu_after_conv_runs_in_place():
    graph, ctx, _ = _plan_pass("""
graph @main(%x: f32[1,8,8,8]) -> f32[1,8,8,8] {
  %w = const f32[8,8,3,3]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %2 = nn.relu(%1) : f32[1,8,8,8]
  %3 = nn.conv2d(%2, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  return %3
}""")
    assert _layout(graph) == {"1": (0, T), "2": (0, T, "1"), "3": (T, T)}
    assert _stats(ctx) == (2 * T, 2 * T, 2)
    assert ctx.stats["plan-memory.in_place"] == 1


def test_residual_skip_keeps_a_third_buffer_live():
    # %1 is read again by the add, so it stays live across the block: three buffers, not two.
    graph, ctx, _ = _plan_pass("""
graph @main(%x: f32[1,8,8,8]) -> f32[1,8,8,8] {
  %w = const f32[8,8,3,3]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %2 = nn.conv2d(%1, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %3 = nn.relu(%2) : f32[1,8,8,8]
  %4 = nn.conv2d(%3, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %5 = add(%4, %1) : f32[1,8,8,8]
  %6 = nn.relu(%5) : f32[1,8,8,8]
  return %6
}""")
    assert _layout(graph) == {"1": (0, T), "2": (T, T), "3": (T, T, "2"), "4": (2 * T, T),
                              "5": (2 * T, T, "4"), "6": (2 * T, T, "5")}
    assert _stats(ctx) == (3 * T, 3 * T, 3)


def test_multiple_outputs_live_to_the_end():
    graph, ctx, plan = _plan_pass("""
graph @main(%x: f32[1,8,8,8]) -> (f32[1,8,8,8], f32[1,8,8,8]) {
  %w = const f32[8,8,3,3]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %2 = nn.conv2d(%1, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %3 = nn.conv2d(%2, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %4 = nn.conv2d(%3, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  return %2 as "mid", %4 as "out"
}""")
    assert plan.buffer("2").end == 3
    assert _layout(graph) == {"1": (0, T), "2": (T, T), "3": (0, T), "4": (2 * T, T)}
    assert _stats(ctx) == (3 * T, 3 * T, 4)


def test_outputs_inputs_and_values_read_later_are_not_overwritten():
    graph, ctx, _ = _plan_pass("""
graph @main(%x: f32[1,8,8,8]) -> (f32[1,8,8,8], f32[1,8,8,8], f32[1,8,8,8]) {
  %1 = nn.relu(%x) : f32[1,8,8,8]
  %2 = exp(%1) : f32[1,8,8,8]
  %3 = neg(%1) : f32[1,8,8,8]
  %4 = sigmoid(%3) : f32[1,8,8,8]
  %5 = nn.relu(%4) : f32[1,8,8,8]
  return %2, %4, %5
}""")
    # %1 reads a graph input; %2 does not end %1's life; %5 must not clobber the output %4.
    # Only %3 (the last reader of %1) and %4 (of %3) run in place.
    layout = _layout(graph)
    assert [k for k, v in layout.items() if len(v) == 3] == ["3", "4"]
    assert layout["3"][2] == "1" and layout["4"][2] == "3"
    assert _stats(ctx) == (3 * T, 3 * T, 3)


def test_broadcast_operand_and_reshape():
    graph, ctx, _ = _plan_pass("""
graph @main(%x: f32[1,8,8,8], %s: f32[1,8,1,1]) -> f32[8,64] {
  %1 = exp(%s) : f32[1,8,1,1]
  %2 = neg(%x) : f32[1,8,8,8]
  %3 = mul(%1, %2) : f32[1,8,8,8]
  %4 = reshape(%3) {newshape=(8,64)} : f32[8,64]
  return %4
}""")
    # mul may overwrite %2 (same shape) but never the broadcast %1; reshape is a view.
    assert _layout(graph) == {"1": (T, 64), "2": (0, T), "3": (0, T, "2"), "4": (0, T, "3")}
    assert _stats(ctx) == (T + 64, T + 64, 2)


def test_groups_from_meta_form_kernels():
    text = """
graph @main(%x: f32[1,8,8,8]) -> f32[1,8,8,8] {
  %w = const f32[8,8,3,3]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %2 = nn.relu(%1) : f32[1,8,8,8]
  %3 = nn.conv2d(%2, %w) {pads=(1,1,1,1)} : f32[1,8,8,8]
  %4 = add(%3, %2) : f32[1,8,8,8]
  %5 = nn.relu(%4) : f32[1,8,8,8]
  return %5
}"""
    graph, ctx, plan = _plan_pass(text, groups={"1": 0, "2": 0, "4": 2, "5": 2})
    # kernels: conv+relu (not in place: conv reads neighbours), conv, add+relu (in place).
    assert _layout(graph) == {"2": (0, T), "3": (T, T), "5": (T, T, "3")}
    assert plan.steps == 3 and _stats(ctx) == (2 * T, 2 * T, 2)


def test_alignment_option_and_stale_meta():
    text = """
graph @main(%x: f32[3]) -> f32[3] {
  %1 = exp(%x) : f32[3]
  %2 = add(%1, %x) : f32[3]
  %3 = neg(%2) : f32[3]
  return %3
}"""
    graph, ctx, _ = _plan_pass(text, alignment=16)
    assert _layout(graph) == {"1": (0, 16), "2": (0, 16, "1"), "3": (0, 16, "2")}
    assert _stats(ctx) == (16, 16, 1)
    plan_pass = get_pass("plan-memory").fn
    assert plan_pass(graph, ctx, alignment=16) is False  # nothing new to write
    graph.node("1").meta["group"] = graph.node("2").meta["group"] = "g"
    assert plan_pass(graph, ctx, alignment=16) is True  # %1 is now inside a kernel
    assert _layout(graph) == {"2": (0, 16), "3": (0, 16, "2")}
    assert all(k not in graph.node("1").meta for k in META_KEYS)
    with pytest.raises(PassError, match="alignment must be positive"):
        run_pipeline(graph, "plan-memory{alignment=0}", PassContext())


def test_in_place_table_names_elementwise_ops():
    for name, kind in IN_PLACE_OPS.items():
        pattern = get_op(name).pattern
        if kind == "view":
            assert name == "reshape"
        else:
            assert pattern in (OpPattern.ELEMWISE, OpPattern.BROADCAST), name


def test_check_plan_catches_overlap_and_bad_alias():
    plan = plan_memory(parse_graph(CHAIN))
    check_plan(plan)
    plan.buffer("2").offset = 0  # %1 and %2 are both live at step 1
    with pytest.raises(VerifyError, match="overlap"):
        check_plan(plan)
    plan.buffer("2").offset = T
    plan.buffer("3").alias = "1"  # %1 dies at step 1, %3 starts at step 2: not an in-place pair
    with pytest.raises(VerifyError, match="aliases %1"):
        check_plan(plan)
    with pytest.raises(EdgeccError, match="no buffer"):
        plan.buffer("w")


def test_to_json():
    data = plan_memory(parse_graph(CHAIN)).to_json()
    assert data["peak_bytes"] == 2 * T and data["naive_bytes"] == 4 * T
    assert data["buffers"][1] == {"name": "2", "size": T, "offset": T, "start": 1, "end": 2,
                                  "alias": None, "region": "arena"}
    assert data["buffers"][-1]["region"] == "input"


def test_graph_without_kernels():
    graph, ctx, plan = _plan_pass("""
graph @main(%x: f32[4]) -> (f32[4], f32[2]) {
  %c = const f32[2] = [1.0, 2.0]
  return %x, %c
}""")
    assert plan.arena == [] and _stats(ctx) == (0, 0, 0)
    assert [(b.name, b.size, b.offset) for b in plan.inputs] == [("x", 64, 0)]


# ------------------------------------------------------------------------------ random DAGs
def _random_graph(seed: int, n: int = 30) -> Graph:
    """A random DAG of [r, 8] float tensors: unary, broadcast, concat, slice, reshape pairs,
    with random fusion groups (a node joins its only user's group) and random extra outputs."""
    rng = np.random.default_rng(seed)
    g = Graph()
    values = [g.add_input("x", TensorType((4, 8))), g.add_input("y", TensorType((2, 8)))]
    bias = g.add_const(rng.standard_normal((1, 8)).astype(np.float32), "bias")

    def pick() -> Node:  # recent values are likelier, so ranges vary in length
        return values[max(0, len(values) - int(rng.geometric(0.3)))]

    for _ in range(n):
        a = pick()
        r = a.shape[0]
        kind = rng.integers(0, 6)
        if kind == 0:
            node = g.create_node(str(rng.choice(["exp", "neg", "nn.relu", "sigmoid"])), [a])
        elif kind == 1:
            same = [v for v in values if v.shape == a.shape]
            node = g.create_node("add", [a, same[rng.integers(len(same))]])
        elif kind == 2:
            node = g.create_node("mul", [a, bias] if rng.integers(2) else [bias, a])
        elif kind == 3 and r <= 8:
            node = g.create_node("concat", [a, pick()], {"axis": 0})
        elif kind == 4 and r > 1:
            end = int(rng.integers(1, r))
            node = g.create_node("slice", [a], {"starts": (0,), "ends": (end,), "axes": (0,),
                                                "steps": (1,)})
        else:
            mid = g.create_node("reshape", [a], {"newshape": (r, 2, 4)})
            node = g.create_node("reshape", [mid], {"newshape": (r, 8)})
        values.append(node)
    extra = [v for v in values[2:-1] if rng.random() < 0.1]
    g.set_outputs([values[-1], *extra])
    for node in reversed(list(g.ops())):  # users first, so a user's group is final
        if len(node.users) == 1 and not g.is_output(node) and rng.random() < 0.3:
            (user,) = node.users
            node.meta["group"] = user.meta.setdefault("group", user.name)
    g.verify()
    return g


@pytest.mark.parametrize("alignment", [64, 4])
def test_random_dags(alignment):
    in_place, ratio = 0, 0.0
    for seed in range(40):
        graph = _random_graph(seed)
        plan = plan_memory(graph, alignment)
        check_plan(plan)
        assert plan.peak_bytes >= plan.lower_bound_bytes
        _check_runs(graph, plan, seed)
        in_place += sum(b.alias is not None for b in plan.arena)
        ratio = max(ratio, plan.peak_bytes / plan.lower_bound_bytes)
    assert in_place > 0
    print(f"alignment {alignment}: worst peak / lower bound {ratio:.3f}")


# ------------------------------------------------------------------------------ real models
@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2"])
def test_real_model_is_near_the_lower_bound(model):
    t0 = time.perf_counter()
    graph = from_onnx(onnx.load(str(getattr(zoo, model)("torchscript"))))
    run_pipeline(graph, "simplify,fold-constants,fold-batchnorm,dce", PassContext())
    plan = plan_memory(graph)
    check_plan(plan)
    ratio = plan.peak_bytes / plan.lower_bound_bytes
    print(f"{model}: {plan.steps} kernels, naive {plan.naive_bytes / 2**20:.2f} MiB, "
          f"peak {plan.peak_bytes / 2**20:.2f} MiB, lower bound "
          f"{plan.lower_bound_bytes / 2**20:.2f} MiB, peak / bound {ratio:.3f} "
          f"({plan.strategy}, {sum(b.alias is not None for b in plan.arena)} in place, "
          f"{time.perf_counter() - t0:.1f} s)")
    assert ratio <= 1.10
    _check_runs(graph, plan)

