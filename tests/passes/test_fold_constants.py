"""fold-constants computes all-constant nodes; the size rule never grows the model."""

import numpy as np

from edgecc.ir.parser import parse_graph
from edgecc.transform import PassContext, run_pipeline


def test_folds_chains(check_pass):
    check_pass("""
graph @main(%x: f32[2]) -> f32[2] {
  %a = const f32[2] = [1.0, 4.0]
  %b = const f32[2] = [2.0, 2.0]
  %1 = mul(%a, %b) : f32[2]
  %2 = sqrt(%1) : f32[2]
  %3 = add(%x, %2) : f32[2]
  return %3
}""", "fold-constants", """
graph @main(%x: f32[2]) -> f32[2] {
  %2 = const f32[2] = [1.4142135381698608, 2.8284270763397217]
  %3 = add(%x, %2) : f32[2]
  return %3
}""")


def test_transposed_weight_folds_whatever_its_size():
    w = np.random.default_rng(0).standard_normal((64, 128)).astype(np.float32)
    g = parse_graph("""
graph @main(%x: f32[1,64]) -> f32[1,128] {
  %w = const f32[64,128]
  %1 = transpose(%w) {axes=(1,0)} : f32[128,64]
  %2 = nn.dense(%x, %1) : f32[1,128]
  return %2
}""", params={"w": w})
    run_pipeline(g, "fold-constants{max-bytes=16}", PassContext())
    assert [n.op for n in g.ops()] == ["nn.dense"]
    np.testing.assert_array_equal(g.nodes[1].value, w.T)


def test_does_not_blow_up_small_constants(check_pass):
    text = """
graph @main(%x: f32[64,64]) -> f32[64,64] {
  %c = const f32[1] = [3.0]
  %1 = broadcast_to(%c) {shape=(64,64)} : f32[64,64]
  %2 = add(%x, %1) : f32[64,64]
  return %2
}"""
    check_pass(text, "fold-constants{max-bytes=1024}", text)


def test_constant_output_folds(check_pass):
    check_pass("""
graph @main(%x: f32[2]) -> (f32[2], i64[2]) {
  %s = const i64[2] = [3, 4]
  %1 = neg(%s) : i64[2]
  return %x, %1 as "k"
}""", "fold-constants", """
graph @main(%x: f32[2]) -> (f32[2], i64[2]) {
  %1 = const i64[2] = [-3, -4]
  return %x, %1 as "k"
}""")
