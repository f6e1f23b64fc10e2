"""x86.conv2d_nchwc: blocked convolutions (regular, 1x1, depthwise) with fused epilogues match
the interpreter, with the default config and with sampled knob values."""

from __future__ import annotations

import random

import numpy as np
import pytest

from edgecc.codegen.kernel import Kernel, partition
from edgecc.ir.graph import Graph
from edgecc.ir.parser import parse_graph
from edgecc.ops.nn_conv import window_out_size
from edgecc.schedules.space import Config
from edgecc.schedules.template import get_template, select_template
from edgecc.targets import get_target
from edgecc.testing.codegen import check_kernels
from edgecc.transform import run_pipeline

TARGET = get_target("x86")
LANES = TARGET.vector_lanes_f32
TEMPLATE = "x86.conv2d_nchwc"
# float32 sums of up to a few hundred products in another order than numpy's BLAS
ATOL = 1e-4

EPILOGUES = {
    "": "",
    "relu": "%r = nn.relu(%y) : {t}",
    "add_relu": "%s = add(%y, %res) : {t}\n  %r = nn.relu(%s) : {t}",
    "clip": "%r = clip(%y) {{min=0.0, max=6.0}} : {t}",
    "mul": "%r = mul(%y, %scale) : {t}",
}


def conv_graph(n: int, c: int, h: int, w: int, oc: int, k: int, s: int = 1, p: int = 0,
               groups: int = 1, bias: bool = True, epilogue: str = "", seed: int = 0,
               oc_block: int | str = LANES) -> tuple[Graph, dict[str, np.ndarray]]:
    """conv2d (+ bias) (+ epilogue), packed and fused into one kernel; graph and inputs."""
    oh, ow = window_out_size(h, k, s, p, p), window_out_size(w, k, s, p, p)
    t = f"f32[{n},{oc},{oh},{ow}]"
    tail = EPILOGUES[epilogue].format(t=t)
    out = "%r" if tail else "%y"
    inputs = f"%x: f32[{n},{c},{h},{w}]"
    if "res" in tail:
        inputs += f", %res: {t}"
    text = f"""
graph @main({inputs}) -> {t} {{
  %w = const f32[{oc},{c // groups},{k},{k}]
  %b = const f32[{oc}]
  %scale = const f32[1,{oc},1,1]
  %y = nn.conv2d(%x, %w{", %b" if bias else ""}) {{strides=({s},{s}), pads=({p},{p},{p},{p}),
      groups={groups}}} : {t}
  {tail}
  return {out}
}}"""
    rng = np.random.default_rng(seed)
    params = {"w": rng.standard_normal((oc, c // groups, k, k)).astype("float32"),
              "b": rng.standard_normal(oc).astype("float32"),
              "scale": rng.standard_normal((1, oc, 1, 1)).astype("float32")}
    graph = parse_graph(text, params=params)
    run_pipeline(graph, f"pack-conv-weights{{oc-block={oc_block}}},fuse-ops,dce")
    feeds = {"x": rng.standard_normal((n, c, h, w)).astype("float32")}
    if "res" in tail:
        feeds["res"] = rng.standard_normal((n, oc, oh, ow)).astype("float32")
    return graph, feeds


def the_kernel(graph: Graph) -> Kernel:
    (kernel,) = partition(graph)
    return kernel


CASES = [
    # (N, C, H, W, OC, K, stride, pad, groups, bias, epilogue)
    pytest.param(1, 16, 14, 14, 32, 3, 1, 1, 1, True, "relu", id="3x3s1p1-14-relu"),
    pytest.param(2, 32, 13, 13, 16, 3, 1, 1, 1, False, "", id="3x3s1p1-13-n2"),
    pytest.param(1, 16, 28, 28, 32, 3, 2, 1, 1, True, "add_relu", id="3x3s2-28-residual"),
    pytest.param(1, 3, 56, 56, 16, 7, 2, 3, 1, True, "relu", id="stem7x7s2-56"),
    pytest.param(1, 3, 13, 13, 16, 7, 2, 3, 1, False, "", id="stem7x7s2-13"),
    pytest.param(1, 24, 56, 56, 16, 1, 1, 0, 1, True, "", id="1x1s1-56-ic24"),
    pytest.param(2, 32, 7, 7, 64, 1, 1, 0, 1, True, "clip", id="1x1s1-7-n2-clip"),
    pytest.param(1, 16, 14, 14, 32, 1, 2, 0, 1, True, "", id="1x1s2-14-projection"),
    pytest.param(1, 16, 112, 112, 16, 1, 1, 0, 1, False, "mul", id="1x1s1-112-mul"),
    pytest.param(1, 32, 56, 56, 32, 3, 1, 1, 32, True, "clip", id="dw3x3s1-56-clip"),
    pytest.param(1, 16, 112, 112, 16, 3, 2, 1, 16, True, "relu", id="dw3x3s2-112"),
    pytest.param(2, 16, 7, 7, 16, 3, 1, 1, 16, False, "", id="dw3x3s1-7-n2"),
    pytest.param(1, 32, 14, 14, 32, 3, 2, 1, 32, True, "add_relu", id="dw3x3s2-14-residual"),
]


@pytest.mark.parametrize("n, c, h, w, oc, k, s, p, groups, bias, epilogue", CASES)
def test_default_config(n: int, c: int, h: int, w: int, oc: int, k: int, s: int, p: int,
                        groups: int, bias: bool, epilogue: str) -> None:
    graph, feeds = conv_graph(n, c, h, w, oc, k, s, p, groups, bias, epilogue)
    kernel = the_kernel(graph)
    assert kernel.anchor.attrs["kernel_layout"] != "OIHW"
    assert select_template(kernel, TARGET).name == TEMPLATE
    check_kernels(graph, feeds, atol=ATOL)


def test_dilated_asymmetric_and_few_tiles() -> None:
    # dilation, different strides per axis, four different pads; 5 output rows of one channel
    # block are too few tiles for the cores, so the column tiles join the parallel loop
    text = f"""
graph @main(%x: f32[1,16,11,10]) -> f32[1,{LANES},5,9] {{
  %w = const f32[{LANES},16,3,3]
  %y = nn.conv2d(%x, %w) {{strides=(2,1), pads=(1,0,2,1), dilations=(2,1)}} : f32[1,{LANES},5,9]
  %r = nn.relu(%y) : f32[1,{LANES},5,9]
  return %r
}}"""
    rng = np.random.default_rng(2)
    graph = parse_graph(text, params={"w": rng.standard_normal((LANES, 16, 3, 3)).astype("f4")})
    run_pipeline(graph, f"pack-conv-weights{{oc-block={LANES}}},fuse-ops")
    kernel = the_kernel(graph)
    template = get_template(TEMPLATE)
    assert select_template(kernel, TARGET) is template
    feeds = {"x": rng.standard_normal((1, 16, 11, 10)).astype("f4")}
    default = template.default_config(kernel, TARGET)
    for change in ({}, {"pack_at": "row", "store": "ow", "outer_order": "oh_oc"}):
        config = Config({**default, **change})
        check_kernels(graph, feeds, atol=ATOL, config=config, template=template)


def test_grouped_conv() -> None:
    # two groups of 2 output blocks each: the input channel block follows the group
    graph, feeds = conv_graph(1, 32, 9, 9, 2 * 2 * LANES, 3, 1, 1, groups=2, epilogue="relu")
    assert select_template(the_kernel(graph), TARGET).name == TEMPLATE
    check_kernels(graph, feeds, atol=ATOL)


def test_unfoldable_epilogue_stays_correct() -> None:
    # the conv output is broadcast along N by the add: the add cannot be folded into the
    # accumulator write-back and is scheduled as a loop nest of its own
    oc = LANES
    text = f"""
graph @main(%x: f32[1,8,10,10], %z: f32[2,{oc},10,10]) -> f32[2,{oc},10,10] {{
  %w = const f32[{oc},8,3,3]
  %y = nn.conv2d(%x, %w) {{pads=(1,1,1,1)}} : f32[1,{oc},10,10]
  %r = add(%y, %z) : f32[2,{oc},10,10]
  return %r
}}"""
    rng = np.random.default_rng(1)
    graph = parse_graph(text, params={"w": rng.standard_normal((oc, 8, 3, 3)).astype("f4")})
    run_pipeline(graph, f"pack-conv-weights{{oc-block={LANES}}}")
    for node in graph.ops():
        node.meta["group"] = 0
    assert select_template(the_kernel(graph), TARGET).name == TEMPLATE
    check_kernels(graph, {"x": rng.standard_normal((1, 8, 10, 10)).astype("f4"),
                          "z": rng.standard_normal((2, oc, 10, 10)).astype("f4")}, atol=ATOL)


def test_half_width_blocks() -> None:
    # 24 channels: blocks of LANES/2 with min-oc-block (MobileNetV2's 144 -> 24 projection)
    oc = 3 * LANES // 2
    graph, feeds = conv_graph(1, 48, 14, 14, oc, 1, 1, 0, epilogue="relu",
                              oc_block=f"{LANES} min-oc-block={LANES // 2}")
    kernel = the_kernel(graph)
    assert kernel.anchor.attrs["kernel_layout"] == f"OIHW{LANES // 2}i{LANES // 2}o"
    assert select_template(kernel, TARGET).name == TEMPLATE
    check_kernels(graph, feeds, atol=ATOL)


def test_other_blocks_go_to_the_generic_template() -> None:
    # a block narrower than half the vector width: not this template's, and still correct
    graph, feeds = conv_graph(1, 8, 9, 9, 8, 3, 1, 1, epilogue="relu", oc_block=LANES // 4)
    kernel = the_kernel(graph)
    assert kernel.anchor.attrs["kernel_layout"] == f"OIHW{LANES // 4}i{LANES // 4}o"
    assert select_template(kernel, TARGET).name != TEMPLATE
    check_kernels(graph, feeds, atol=ATOL)
    plain, feeds = conv_graph(1, 8, 9, 9, 3 * LANES // 2, 3, 1, 1)  # left unpacked
    assert the_kernel(plain).anchor.attrs["kernel_layout"] == "OIHW"
    assert select_template(the_kernel(plain), TARGET).name != TEMPLATE


@pytest.mark.parametrize("case", [
    (1, 32, 14, 14, 64, 3, 1, 1, 1, "relu"),
    (1, 32, 12, 12, 32, 3, 1, 1, 32, "clip"),
], ids=["regular", "depthwise"])
def test_sampled_knobs(case: tuple) -> None:
    n, c, h, w, oc, k, s, p, groups, epilogue = case
    graph, feeds = conv_graph(n, c, h, w, oc, k, s, p, groups, True, epilogue)
    kernel = the_kernel(graph)
    template = get_template(TEMPLATE)
    space = template.space(kernel, TARGET)
    default = template.default_config(kernel, TARGET)
    assert default in space
    configs = list(space.configs())
    # every value of every knob appears in some sampled config
    picked = random.Random(0).sample(configs, 6)
    for name, values in space.knobs.items():
        for value in values:
            if not any(cfg[name] == value for cfg in picked):
                picked.append(next(cfg for cfg in configs if cfg[name] == value))
    for config in picked:
        check_kernels(graph, feeds, atol=ATOL, config=config, template=template)


def test_default_config_follows_the_workload() -> None:
    template = get_template(TEMPLATE)
    wide, _ = conv_graph(1, 16, 56, 56, 64, 3, 1, 1)
    small, _ = conv_graph(1, 16, 7, 7, 64, 3, 1, 1)
    c_wide = template.default_config(the_kernel(wide), TARGET)
    c_small = template.default_config(the_kernel(small), TARGET)
    assert c_wide != c_small
    for cfg in (c_wide, c_small):
        accumulators = cfg["tile_ow"][1] * cfg["tile_oh"][1] * cfg["tile_oc"][1]
        assert 4 <= accumulators <= 28
