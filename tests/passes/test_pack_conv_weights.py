"""pack-conv-weights blocks constant conv2d weights, packs shared constants once, leaves
the convs it cannot pack alone, and keeps the values."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.cli.common import random_inputs
from edgecc.interpreter import run
from edgecc.ir.parser import parse_graph
from edgecc.ops.nn_conv import unpack_kernel
from edgecc.passes.pack_conv_weights import choose_ic_block
from edgecc.transform import PassContext, run_pipeline
from edgecc.transform.instruments import VerifyEach


def test_text_form(check_pass):
    # w [O=4, I=2]: block (a, j, k) holds w[2a + k, j]
    check_pass("""
graph @main(%x: f32[1,2,3,3]) -> f32[1,4,3,3] {
  %w = const f32[4,2,1,1] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
  %1 = nn.conv2d(%x, %w) : f32[1,4,3,3]
  return %1
}""", "pack-conv-weights{oc-block=2}", """
graph @main(%x: f32[1,2,3,3]) -> f32[1,4,3,3] {
  %w_2i2o = const f32[2,1,1,1,2,2] = [1.0, 3.0, 2.0, 4.0, 5.0, 7.0, 6.0, 8.0]
  %1 = nn.conv2d(%x, %w_2i2o) {kernel_layout="OIHW2i2o"} : f32[1,4,3,3]
  return %1
}""")


def test_depthwise_and_unpackable_convs(check_pass):
    # depthwise (ic block 1); OC=3 is not a multiple of 2: left alone; ic-block=4 does not
    # divide 2 input channels: left alone
    check_pass("""
graph @main(%x: f32[1,4,3,3]) -> f32[1,3,3,3] {
  %dw = const f32[4,1,1,1] = [1.0, 2.0, 3.0, 4.0]
  %w3 = const f32[3,4,1,1]
  %1 = nn.conv2d(%x, %dw) {groups=4} : f32[1,4,3,3]
  %2 = nn.conv2d(%1, %w3) : f32[1,3,3,3]
  return %2
}""", "pack-conv-weights{oc-block=2}", """
graph @main(%x: f32[1,4,3,3]) -> f32[1,3,3,3] {
  %dw_1i2o = const f32[2,1,1,1,1,2] = [1.0, 2.0, 3.0, 4.0]
  %w3 = const f32[3,4,1,1]
  %1 = nn.conv2d(%x, %dw_1i2o) {groups=4, kernel_layout="OIHW1i2o"} : f32[1,4,3,3]
  %2 = nn.conv2d(%1, %w3) : f32[1,3,3,3]
  return %2
}""", numerics=False)


GRAPH = """
graph @main(%x: f32[1,8,6,6], %wx: f32[4,8,3,3]) -> f32[1,4,3,3] {
  %w = const f32[8,8,3,3]
  %b = const f32[8]
  %wg = const f32[8,4,3,3]
  %dw = const f32[8,1,3,3]
  %1 = nn.conv2d(%x, %w, %b) {pads=(1,1,1,1)} : f32[1,8,6,6]
  %2 = nn.relu(%1) : f32[1,8,6,6]
  %3 = nn.conv2d(%2, %w) {pads=(1,1,1,1)} : f32[1,8,6,6]
  %4 = nn.conv2d(%3, %wg) {pads=(1,1,1,1), groups=2} : f32[1,8,6,6]
  %5 = nn.conv2d(%4, %dw) {strides=(2,2), pads=(1,1,1,1), groups=8} : f32[1,8,3,3]
  %6 = nn.conv2d(%5, %wx) {pads=(2,2,2,2), dilations=(2,2)} : f32[1,4,3,3]
  %7 = nn.relu(%6) : f32[1,4,3,3]
  return %7
}"""


def _graph() -> tuple:
    rng = np.random.default_rng(0)
    shapes = {"w": (8, 8, 3, 3), "b": (8,), "wg": (8, 4, 3, 3), "dw": (8, 1, 3, 3)}
    params = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    return parse_graph(GRAPH, params=params), params


@pytest.mark.parametrize("options, layouts", [
    ("oc-block=4", ["OIHW4i4o", "OIHW4i4o", "OIHW4i4o", "OIHW1i4o", "OIHW"]),
    ("oc-block=4 ic-block=2", ["OIHW2i4o", "OIHW2i4o", "OIHW2i4o", "OIHW1i4o", "OIHW"]),
    ("oc-block=8", ["OIHW8i8o", "OIHW8i8o", "OIHW", "OIHW1i8o", "OIHW"]),
    ("oc-block=16", ["OIHW"] * 5),
    ("oc-block=4 ic-block=3", ["OIHW", "OIHW", "OIHW", "OIHW1i4o", "OIHW"]),
    # min-oc-block: halve the block down to it for channels that are not a multiple
    ("oc-block=8 min-oc-block=4", ["OIHW8i8o", "OIHW8i8o", "OIHW4i4o", "OIHW1i8o", "OIHW"]),
    ("oc-block=16 min-oc-block=8", ["OIHW8i8o", "OIHW8i8o", "OIHW", "OIHW1i8o", "OIHW"]),
])
def test_packs_what_it_can_and_keeps_values(options: str, layouts: list[str]) -> None:
    graph, params = _graph()
    before = graph.copy()
    ctx = PassContext([VerifyEach()])
    run_pipeline(graph, f"pack-conv-weights{{{options}}}", ctx)
    convs = [n for n in graph.ops() if n.op == "nn.conv2d"]
    assert [c.attrs["kernel_layout"] for c in convs] == layouts
    assert ctx.stats.get("pack-conv-weights.convs", 0) == sum(x != "OIHW" for x in layouts)
    # the weight shared by %1 and %3 is packed once, and the OIHW copy is gone when unused;
    # %6's weight is a graph input: never packed
    assert convs[0].inputs[1] is convs[1].inputs[1]
    assert graph.has_node("w") == (layouts[0] == "OIHW")
    for conv in convs:
        w = conv.inputs[1]
        if conv.attrs["kernel_layout"] != "OIHW":
            np.testing.assert_array_equal(unpack_kernel(w.value), params[w.name.split("_")[0]])
    feeds = random_inputs(before, seed=1)
    np.testing.assert_allclose(run(graph, feeds)["7"], run(before, feeds)["7"],
                               rtol=1e-5, atol=1e-5)


def test_a_weight_used_elsewhere_is_kept() -> None:
    graph = parse_graph("""
graph @main(%x: f32[1,4,3,3]) -> (f32[1,4,3,3], f32[4,4,1,1]) {
  %w = const f32[4,4,1,1]
  %1 = nn.conv2d(%x, %w) : f32[1,4,3,3]
  return %1, %w
}""", params={"w": np.arange(16, dtype=np.float32).reshape(4, 4, 1, 1)})
    assert run_pipeline(graph, "pack-conv-weights{oc-block=4}") is graph
    assert graph.has_node("w") and graph.has_node("w_4i4o")
    assert graph.node("1").attrs["kernel_layout"] == "OIHW4i4o"


def test_nothing_to_pack_reports_no_change() -> None:
    graph, _ = _graph()
    run_pipeline(graph, "pack-conv-weights{oc-block=4}")
    ctx = PassContext()
    run_pipeline(graph, "pack-conv-weights{oc-block=4}", ctx)  # already packed
    assert ctx.stats.get("pack-conv-weights.convs", 0) == 0


@pytest.mark.parametrize("channels, oc_block, want", [
    (3, 16, 3), (64, 16, 16), (24, 16, 12), (7, 16, 7), (17, 16, 1), (144, 8, 8)])
def test_choose_ic_block(channels: int, oc_block: int, want: int) -> None:
    assert choose_ic_block(channels, oc_block) == want
