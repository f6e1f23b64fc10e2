"""x86.dense_packed, x86.dense and x86.matmul: every kernel they schedule matches the
interpreter."""

from __future__ import annotations

import random

import numpy as np
import pytest

from edgecc.codegen.kernel import Kernel, partition
from edgecc.ir.graph import Graph
from edgecc.ir.parser import parse_graph
from edgecc.ir.types import TensorType
from edgecc.schedules.space import Config
from edgecc.schedules.template import get_template, select_template
from edgecc.targets import get_target
from edgecc.testing.codegen import check_kernels
from edgecc.transform import PassContext, run_pipeline

TARGET = get_target("x86")
LANES = TARGET.vector_lanes_f32
PACK = f"pack-dense-weights{{n-block={LANES}}},fuse-ops"
TOL = {"rtol": 1e-4, "atol": 1e-4}


def _rand(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _templates(graph: Graph) -> list[str]:
    return [select_template(k, TARGET).name for k in partition(graph)]


def _dense_graph(rng: np.random.Generator, m: int, k: int, n: int, *,
                 bias: bool = True) -> Graph:
    g = Graph()
    x = g.add_input("x", TensorType((m, k)))
    ins = [x, g.add_const(_rand(rng, n, k, scale=0.1), "w")]
    if bias:
        ins.append(g.add_const(_rand(rng, n), "b"))
    g.set_outputs([g.create_node("nn.dense", ins, name="y")])
    run_pipeline(g, PACK, PassContext())
    return g


# --------------------------------------------------------------------------- dense
@pytest.mark.parametrize("n", [16, 64, 1000, 192])
@pytest.mark.parametrize("k", [64, 512])
@pytest.mark.parametrize("m", [1, 4, 128])
def test_dense_shapes(m: int, k: int, n: int) -> None:
    rng = np.random.default_rng(m * 7 + k + n)
    g = _dense_graph(rng, m, k, n, bias=k == 64 or m == 4)  # with and without a bias
    want = "x86.dense_packed" if n % LANES == 0 else "x86.dense"
    assert _templates(g) == [want]
    check_kernels(g, {"x": _rand(rng, m, k)}, **TOL)


EPILOGUE = """
graph @main(%x: f32[2,8,64], %r: f32[2,8,48]) -> f32[2,8,48] {
  %w = const f32[48,64]
  %b = const f32[48]
  %1 = nn.dense(%x, %w, %b) : f32[2,8,48]
  %2 = add(%1, %r) : f32[2,8,48]
  %3 = nn.relu(%2) : f32[2,8,48]
  return %3
}"""

GELU_ERF = """
graph @main(%x: f32[24,32]) -> f32[24,64] {
  %w = const f32[64,32]
  %b = const f32[64]
  %s = const f32[] = [1.4142135381698608]
  %one = const f32[] = [1.0]
  %half = const f32[] = [0.5]
  %1 = nn.dense(%x, %w, %b) : f32[24,64]
  %2 = div(%1, %s) : f32[24,64]
  %3 = erf(%2) : f32[24,64]
  %4 = add(%3, %one) : f32[24,64]
  %5 = mul(%1, %4) : f32[24,64]
  %6 = mul(%5, %half) : f32[24,64]
  return %6
}"""


def test_dense_fused_bias_add_relu() -> None:
    rng = np.random.default_rng(1)
    g = parse_graph(EPILOGUE, {"w": _rand(rng, 48, 64, scale=0.1), "b": _rand(rng, 48)})
    run_pipeline(g, PACK, PassContext())
    (kernel,) = check_kernels(g, {"x": _rand(rng, 2, 8, 64), "r": _rand(rng, 2, 8, 48)}, **TOL)
    assert kernel.describe() == "nn.dense+add+nn.relu"
    assert select_template(kernel, TARGET).name == "x86.dense_packed"


@pytest.mark.parametrize("op, attrs", [
    ("sigmoid", {}), ("tanh", {}), ("clip", {"min": -0.5, "max": 0.5}),
    ("nn.hard_swish", {}), ("nn.leaky_relu", {"alpha": 0.1}), ("cast", {"dtype": "float16"}),
])
def test_dense_and_matmul_epilogue_ops(op: str, attrs: dict) -> None:
    rng = np.random.default_rng(8)
    for anchor in ("nn.dense", "nn.matmul"):
        g = Graph()
        x = g.add_input("x", TensorType((6, 32)))
        if anchor == "nn.dense":
            y = g.create_node(anchor, [x, g.add_const(_rand(rng, 32, 32, scale=0.2), "w")])
        else:
            y = g.create_node(anchor, [x, g.add_input("v", TensorType((32, 32)))])
        g.set_outputs([g.create_node(op, [y], attrs)])
        run_pipeline(g, PACK, PassContext())
        assert _templates(g) == ["x86.dense_packed" if anchor == "nn.dense" else "x86.matmul"]
        feeds = {"x": _rand(rng, 6, 32), "v": _rand(rng, 32, 32, scale=0.2)}
        tol = {"rtol": 1e-3, "atol": 1e-3} if op == "cast" else TOL
        check_kernels(g, {i.name: feeds[i.name] for i in g.inputs}, **tol)


def _one_group(g: Graph) -> Graph:
    for node in g.ops():
        node.meta["group"] = 0
    return g


def test_dense_fused_gelu_erf_chain() -> None:
    # fuse-ops keeps a value with two users out of a group; the lead may fuse the chain later,
    # and the template must then handle the diamond: group it by hand.
    rng = np.random.default_rng(2)
    g = parse_graph(GELU_ERF, {"w": _rand(rng, 64, 32, scale=0.2), "b": _rand(rng, 64)})
    run_pipeline(g, f"pack-dense-weights{{n-block={LANES}}}", PassContext())
    (kernel,) = check_kernels(_one_group(g), {"x": _rand(rng, 24, 32)}, **TOL)
    assert len(kernel.nodes) == 6
    assert select_template(kernel, TARGET).name == "x86.dense_packed"


def test_dense_gelu_op_and_rank3() -> None:
    rng = np.random.default_rng(3)
    text = """
    graph @main(%x: f32[3,5,32]) -> f32[3,5,32] {
      %w = const f32[32,32]
      %1 = nn.dense(%x, %w) : f32[3,5,32]
      %2 = nn.gelu(%1) : f32[3,5,32]
      return %2
    }"""
    g = parse_graph(text, {"w": _rand(rng, 32, 32, scale=0.2)})
    run_pipeline(g, PACK, PassContext())
    assert _templates(g) == ["x86.dense_packed"]
    check_kernels(g, {"x": _rand(rng, 3, 5, 32)}, **TOL)


def test_dense_plain_weight() -> None:
    # a run-time weight (not packable) with a fused epilogue, rank-3 x: x86.dense
    rng = np.random.default_rng(7)
    text = """
    graph @main(%x: f32[3,5,32], %w: f32[24,32], %r: f32[3,5,24]) -> f32[3,5,24] {
      %1 = nn.dense(%x, %w) : f32[3,5,24]
      %2 = add(%1, %r) : f32[3,5,24]
      %3 = nn.relu(%2) : f32[3,5,24]
      return %3
    }"""
    g = parse_graph(text)
    run_pipeline(g, PACK, PassContext())
    assert _templates(g) == ["x86.dense"]
    check_kernels(g, {"x": _rand(rng, 3, 5, 32), "w": _rand(rng, 24, 32),
                      "r": _rand(rng, 3, 5, 24)}, **TOL)


def _single_dense(rng: np.random.Generator, x_shape: tuple[int, ...], n: int,
                  pipeline: str) -> Graph:
    g = Graph()
    x = g.add_input("x", TensorType(x_shape))
    w = g.add_const(_rand(rng, n, x_shape[-1]), "w")
    g.set_outputs([g.create_node("nn.dense", [x, w], name="y")])
    run_pipeline(g, pipeline, PassContext())
    return g


@pytest.mark.parametrize("x_shape, n, pipeline", [
    ((4, 32), 32, f"pack-dense-weights{{n-block={LANES // 2}}},fuse-ops"),  # block != lanes
    ((32,), 32, PACK),      # 1-D x
    ((4, 20), 30, PACK),    # K not a multiple of the lanes, N not packable
])
def test_dense_does_not_match(x_shape: tuple[int, ...], n: int, pipeline: str) -> None:
    rng = np.random.default_rng(4)
    g = _single_dense(rng, x_shape, n, pipeline)
    assert _templates(g) == ["generic.default"]
    check_kernels(g, {"x": _rand(rng, *x_shape)}, **TOL)


# --------------------------------------------------------------------------- matmul
def _matmul_graph(sa: tuple[int, ...], sb: tuple[int, ...], epilogue: bool = False) -> Graph:
    g = Graph()
    a, b = g.add_input("a", TensorType(sa)), g.add_input("b", TensorType(sb))
    y = g.create_node("nn.matmul", [a, b], name="y")
    if epilogue:  # attention-style: scale, add a bias row, then relu
        scale = g.add_const(np.array(0.25, np.float32), "s")
        bias = g.add_const(np.linspace(-1, 1, y.shape[-1], dtype=np.float32), "bias")
        y = g.create_node("nn.relu", [g.create_node("add", [g.create_node(
            "mul", [y, scale]), bias])])
    g.set_outputs([y])
    run_pipeline(g, "fuse-ops", PassContext())
    return g


@pytest.mark.parametrize("sa, sb, epilogue", [
    ((128, 64), (64, 128), False),
    ((4, 128, 16), (4, 16, 128), False),
    ((1, 4, 128, 16), (1, 4, 16, 128), True),
    ((128, 64), (64, 64), True),
    ((2, 1, 12, 8), (3, 8, 32), False),  # broadcast batch dims
])
def test_matmul(sa: tuple, sb: tuple, epilogue: bool) -> None:
    rng = np.random.default_rng(len(sa) + sa[-1])
    g = _matmul_graph(sa, sb, epilogue)
    assert _templates(g) == ["x86.matmul"]
    check_kernels(g, {"a": _rand(rng, *sa), "b": _rand(rng, *sb)}, **TOL)


def test_matmul_does_not_match() -> None:
    rng = np.random.default_rng(5)
    for sa, sb in [((8, 16), (16, 20)), ((16,), (16, 32)), ((4, 16), (16,))]:
        g = _matmul_graph(sa, sb)
        assert _templates(g) == ["generic.default"], (sa, sb)
        check_kernels(g, {"a": _rand(rng, *sa), "b": _rand(rng, *sb)}, **TOL)


# --------------------------------------------------------------------------- sampled configs
def _kernel(g: Graph) -> Kernel:
    (kernel,) = partition(g)
    return kernel


@pytest.mark.parametrize("template_name", ["x86.dense_packed", "x86.dense", "x86.matmul"])
def test_sampled_configs(template_name: str) -> None:
    rng = np.random.default_rng(6)
    template = get_template(template_name)
    if template_name.startswith("x86.dense"):
        n = 48 if template_name == "x86.dense_packed" else 40  # 40: not packable
        text = EPILOGUE.replace("48", str(n))
        g = parse_graph(text, {"w": _rand(rng, n, 64, scale=0.1), "b": _rand(rng, n)})
        run_pipeline(g, PACK, PassContext())
        feeds = {"x": _rand(rng, 2, 8, 64), "r": _rand(rng, 2, 8, n)}
    else:
        g = _matmul_graph((2, 24, 32), (2, 32, 64), epilogue=True)
        feeds = {"a": _rand(rng, 2, 24, 32), "b": _rand(rng, 2, 32, 64)}
    kernel = _kernel(g)
    space = template.space(kernel, TARGET)
    assert template.default_config(kernel, TARGET) in space
    configs = list(space.configs())
    assert len(configs) == space.size >= 20
    for config in random.Random(0).sample(configs, 10):
        check_kernels(g, feeds, config=config, template=template, **TOL)


def test_partial_tiles() -> None:
    # prime M and N-block counts: the last tile is partial (guarded by a predicate)
    rng = np.random.default_rng(10)
    cases = []
    g = parse_graph(EPILOGUE.replace("2,8,", "1,13,").replace("48", str(13 * LANES)),
                    {"w": _rand(rng, 13 * LANES, 64, scale=0.1), "b": _rand(rng, 13 * LANES)})
    run_pipeline(g, PACK, PassContext())
    cases.append((g, {"x": _rand(rng, 1, 13, 64), "r": _rand(rng, 1, 13, 13 * LANES)},
                  "x86.dense_packed", {"tile_m": (4, 4), "tile_n": (3, 5), "tile_k": (16, 4),
                                       "order": "mn"}))
    g = parse_graph(EPILOGUE.replace("2,8,", "1,13,").replace("48", "37"),
                    {"w": _rand(rng, 37, 64, scale=0.1), "b": _rand(rng, 37)})
    run_pipeline(g, PACK, PassContext())
    cases.append((g, {"x": _rand(rng, 1, 13, 64), "r": _rand(rng, 1, 13, 37)}, "x86.dense",
                  {"tile_m": (2, 7), "tile_n": (4, 10), "order": "nm"}))
    sa, sb = (3, 13, 16), (3, 16, 13 * LANES)
    cases.append((_matmul_graph(sa, sb, epilogue=True),
                  {"a": _rand(rng, *sa), "b": _rand(rng, *sb)}, "x86.matmul",
                  {"tile_m": (3, 5), "tile_n": (2, 7), "tile_k": (4, 4), "order": "nm"}))
    for graph, feeds, name, knobs in cases:
        template = get_template(name)
        kernel = _kernel(graph)
        assert select_template(kernel, TARGET) is template
        config = Config(knobs)
        assert config in template.space(kernel, TARGET)
        check_kernels(graph, feeds, config=config, template=template, **TOL)
        check_kernels(graph, feeds, **TOL)  # the default config


# --------------------------------------------------------------------------- an AVX2 target
def test_avx2_target() -> None:
    # 8 lanes, 16 registers (runs on any AVX2 host, this one included)
    from dataclasses import replace

    from edgecc.codegen.lower import lower_kernel
    from edgecc.interpreter import run
    from edgecc.testing.codegen import run_lowered

    avx2 = replace(TARGET, name="x86-avx2", mcpu="haswell", vector_bits=256,
                   features=("avx2", "fma"), has_int8_dot=False)
    rng = np.random.default_rng(9)
    dense = parse_graph(EPILOGUE.replace("48", "40"), {"w": _rand(rng, 40, 64, scale=0.1),
                                                       "b": _rand(rng, 40)})
    run_pipeline(dense, "pack-dense-weights{n-block=8},fuse-ops", PassContext())
    matmul = _matmul_graph((2, 12, 16), (2, 16, 24), epilogue=True)
    cases = [(dense, {"x": _rand(rng, 2, 8, 64), "r": _rand(rng, 2, 8, 40)}, "x86.dense_packed"),
             (matmul, {"a": _rand(rng, 2, 12, 16), "b": _rand(rng, 2, 16, 24)}, "x86.matmul")]
    for g, feeds, name in cases:
        values = run(g, feeds, keep_all=True)
        (kernel,) = partition(g)
        assert select_template(kernel, avx2).name == name
        assert select_template(kernel, TARGET).name == "generic.default"  # 16 lanes: no
        lowered = lower_kernel(kernel, avx2)
        got = run_lowered(lowered, {p: values[p.name] for p in kernel.params}, avx2)
        np.testing.assert_allclose(got, values[kernel.output.name], **TOL)
