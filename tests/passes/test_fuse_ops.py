"""fuse-ops groups nodes by op pattern; groups are convex chains that partition cleanly."""

import numpy as np
import pytest

from edgecc.codegen.kernel import partition
from edgecc.ir.parser import parse_graph
from edgecc.transform import PassContext, run_pipeline

CONV_BLOCK = """
graph @main(%x: f32[1,4,8,8]) -> f32[1,4,8,8] {
  %w = const f32[4,4,3,3]
  %b = const f32[1,4,1,1]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,4,8,8]
  %2 = add(%1, %b) : f32[1,4,8,8]
  %3 = nn.relu(%2) : f32[1,4,8,8]
  %4 = nn.conv2d(%3, %w) {pads=(1,1,1,1)} : f32[1,4,8,8]
  %5 = add(%4, %x) : f32[1,4,8,8]
  %6 = clip(%5) {min=0.0, max=6.0} : f32[1,4,8,8]
  %7 = nn.max_pool2d(%6) {kernel=(3,3), pads=(1,1,1,1)} : f32[1,4,8,8]
  %8 = nn.softmax(%7) {axis=3} : f32[1,4,8,8]
  %9 = mul(%8, %8) : f32[1,4,8,8]
  return %9
}"""


def _groups(text, pipeline="fuse-ops"):
    g = parse_graph(text)
    run_pipeline(g, pipeline, PassContext())
    groups = {}
    for n in g.ops():
        groups.setdefault(n.meta["group"], []).append(n.op)
    return g, list(groups.values())


def test_conv_epilogues_and_residuals():
    g, groups = _groups(CONV_BLOCK)
    assert groups == [
        ["nn.conv2d", "add", "nn.relu"],
        ["nn.conv2d", "add", "clip"],
        ["nn.max_pool2d"],             # opaque: alone
        ["nn.softmax", "mul"],         # reduction + elementwise epilogue
    ]
    kernels = partition(g)
    assert [k.describe() for k in kernels] == ["nn.conv2d+add+nn.relu", "nn.conv2d+add+clip",
                                               "nn.max_pool2d", "nn.softmax+mul"]


def test_shared_values_end_groups():
    _, groups = _groups("""
graph @main(%x: f32[8]) -> (f32[8], f32[8]) {
  %1 = exp(%x) : f32[8]
  %2 = neg(%1) : f32[8]
  %3 = abs(%1) : f32[8]
  %4 = add(%2, %3) : f32[8]
  return %4, %2 as "mid"
}""")
    # %1 has two users and %2 is an output: neither can be inside a group
    assert groups == [["exp"], ["neg"], ["abs", "add"]]


def test_injective_chain_and_reduction_absorbs_it():
    _, groups = _groups("""
graph @main(%x: f32[2,3,4]) -> f32[2,4] {
  %1 = transpose(%x) {axes=(0,2,1)} : f32[2,4,3]
  %2 = exp(%1) : f32[2,4,3]
  %3 = reduce.sum(%2) {axes=(2,), keepdims=False} : f32[2,4]
  %4 = reduce.max(%3) {axes=(1,), keepdims=True} : f32[2,1]
  %5 = sub(%3, %4) : f32[2,4]
  return %5
}""")
    assert groups == [["transpose", "exp", "reduce.sum"], ["reduce.max", "sub"]]


@pytest.mark.parametrize("depth", [1, 2])
def test_max_depth(depth):
    _, groups = _groups(CONV_BLOCK, f"fuse-ops{{max-depth={depth}}}")
    assert max(len(g) for g in groups) == depth


def test_random_graphs_partition_convexly():
    rng = np.random.default_rng(0)
    ops = ["exp", "neg", "abs", "add", "mul", "reduce.sum"]
    for _trial in range(30):
        lines, names = [], ["x"]
        for i in range(12):
            op = ops[rng.integers(len(ops))]
            a = names[rng.integers(len(names))]
            if op in ("add", "mul"):
                b = names[rng.integers(len(names))]
                lines.append(f"  %n{i} = {op}(%{a}, %{b}) : f32[4,4]")
            elif op == "reduce.sum":
                lines.append(f"  %n{i} = reduce.sum(%{a}) {{axes=(1,)}} : f32[4,1]")
                lines.append(f"  %m{i} = add(%n{i}, %{a}) : f32[4,4]")
                names.append(f"m{i}")
                continue
            else:
                lines.append(f"  %n{i} = {op}(%{a}) : f32[4,4]")
            names.append(f"n{i}")
        text = ("graph @main(%x: f32[4,4]) -> f32[4,4] {\n" + "\n".join(lines)
                + f"\n  return %{names[-1]}\n}}")
        g = parse_graph(text)
        run_pipeline(g, "dce,fuse-ops", PassContext())
        partition(g)  # raises if a group is not convex


GELU = """
graph @main(%x: f32[4,8]) -> f32[4,16] {
  %w = const f32[16,8]
  %s = const f32[] = [0.7071067690849304]
  %one = const f32[] = [1.0]
  %half = const f32[] = [0.5]
  %1 = nn.dense(%x, %w) : f32[4,16]
  %2 = mul(%1, %s) : f32[4,16]
  %3 = erf(%2) : f32[4,16]
  %4 = add(%3, %one) : f32[4,16]
  %5 = mul(%1, %4) : f32[4,16]
  %6 = mul(%5, %half) : f32[4,16]
  return %6
}"""


def test_gelu_diamond_joins_the_dense():
    g, groups = _groups(GELU)
    assert groups == [["nn.dense", "mul", "erf", "add", "mul", "mul"]]
    partition(g)


def test_gelu_diamond_kernel_matches_the_interpreter():
    from edgecc.testing.codegen import check_kernels

    rng = np.random.default_rng(0)
    g = parse_graph(GELU, params={"w": rng.standard_normal((16, 8)).astype(np.float32)})
    run_pipeline(g, "pack-dense-weights{n-block=16},fuse-ops", PassContext())
    (kernel,) = check_kernels(g, {"x": rng.standard_normal((4, 8)).astype(np.float32)})
    assert kernel.describe() == "nn.dense+mul+erf+add+mul+mul"


def test_diamond_through_a_reduction_is_not_fused():
    _, groups = _groups("""
graph @main(%x: f32[4,8]) -> f32[4,8] {
  %1 = exp(%x) : f32[4,8]
  %2 = reduce.sum(%1) {axes=(1,)} : f32[4,1]
  %3 = div(%1, %2) : f32[4,8]
  return %3
}""")
    # exp is read by the sum (a reduction) and by the div: no elementwise diamond
    assert groups == [["exp"], ["reduce.sum", "div"]]


def test_diamond_with_an_escaping_value_is_not_fused():
    _, groups = _groups("""
graph @main(%x: f32[8]) -> (f32[8], f32[8]) {
  %1 = exp(%x) : f32[8]
  %2 = neg(%1) : f32[8]
  %3 = abs(%1) : f32[8]
  %4 = add(%2, %3) : f32[8]
  return %4, %3 as "side"
}""")
    # %3 is a graph output, so the uses of %1 cannot all be inside one kernel
    assert groups == [["exp"], ["neg", "add"], ["abs"]]
