"""fold-batchnorm folds into conv2d / dense / matmul and keeps the values."""

import numpy as np
import pytest

from edgecc.cli.common import random_inputs
from edgecc.interpreter import run
from edgecc.ir.parser import parse_graph
from edgecc.transform import PassContext, run_pipeline

rng = np.random.default_rng(0)


def _bn(c):
    return {"g": rng.uniform(0.5, 1.5, c).astype(np.float32),
            "be": rng.standard_normal(c).astype(np.float32),
            "m": rng.standard_normal(c).astype(np.float32),
            "v": rng.uniform(0.5, 2.0, c).astype(np.float32)}


CONV = """
graph @main(%x: f32[1,3,6,6]) -> f32[1,8,6,6] {
  %w = const f32[8,3,3,3]
  %g = const f32[8]
  %be = const f32[8]
  %m = const f32[8]
  %v = const f32[8]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,8,6,6]
  %2 = nn.batch_norm(%1, %g, %be, %m, %v) {epsilon=0.001} : f32[1,8,6,6]
  %3 = nn.relu(%2) : f32[1,8,6,6]
  return %3
}"""

DENSE = """
graph @main(%x: f32[2,16]) -> f32[2,4] {
  %w = const f32[4,16]
  %b = const f32[4]
  %g = const f32[4]
  %be = const f32[4]
  %m = const f32[4]
  %v = const f32[4]
  %1 = nn.dense(%x, %w, %b) : f32[2,4]
  %2 = nn.batch_norm(%1, %g, %be, %m, %v) : f32[2,4]
  return %2
}"""

MATMUL = """
graph @main(%x: f32[2,16]) -> f32[2,4] {
  %w = const f32[16,4]
  %g = const f32[4]
  %be = const f32[4]
  %m = const f32[4]
  %v = const f32[4]
  %1 = nn.matmul(%x, %w) : f32[2,4]
  %2 = nn.batch_norm(%1, %g, %be, %m, %v) : f32[2,4]
  return %2
}"""


@pytest.mark.parametrize("text, wshape, ops", [
    (CONV, (8, 3, 3, 3), ["nn.conv2d", "nn.relu"]),
    (DENSE, (4, 16), ["nn.dense"]),
    (MATMUL, (16, 4), ["nn.matmul", "add"]),
])
def test_folds_and_matches(text, wshape, ops):
    c = wshape[0] if text is not MATMUL else wshape[1]
    params = {"w": rng.standard_normal(wshape).astype(np.float32), "b":
              rng.standard_normal(c).astype(np.float32), **_bn(c)}
    g = parse_graph(text, params=params)
    before = g.copy()
    ctx = PassContext()
    assert run_pipeline(g, "fold-batchnorm", ctx) is g
    assert [n.op for n in g.ops()] == ops
    assert ctx.stats["fold-batchnorm.folded"] == 1
    assert not any(n.name in ("g", "be", "m", "v", "w") for n in g.nodes)  # old constants gone
    feeds = random_inputs(before)
    np.testing.assert_allclose(run(g, feeds)["3" if text is CONV else "2"],
                               run(before, feeds)["3" if text is CONV else "2"],
                               rtol=1e-4, atol=1e-5)


def test_text_form_of_conv_fold(check_pass):
    # scale = g / sqrt(v + eps) = (0.5, 2); w2 = w * scale; b2 = (0 - m) * scale + be
    check_pass("""
graph @main(%x: f32[1,1,2,2]) -> f32[1,2,2,2] {
  %w = const f32[2,1,1,1] = [2.0, 3.0]
  %g = const f32[2] = [1.0, 2.0]
  %be = const f32[2] = [0.5, 0.0]
  %m = const f32[2] = [1.0, 0.0]
  %v = const f32[2] = [3.0, 0.0]
  %1 = nn.conv2d(%x, %w) : f32[1,2,2,2]
  %2 = nn.batch_norm(%1, %g, %be, %m, %v) {epsilon=1.0} : f32[1,2,2,2]
  %3 = nn.relu(%2) : f32[1,2,2,2]
  return %3
}""", "fold-batchnorm", """
graph @main(%x: f32[1,1,2,2]) -> f32[1,2,2,2] {
  %w2 = const f32[2,1,1,1] = [1.0, 6.0]
  %b2 = const f32[2] = [0.0, 0.0]
  %1 = nn.conv2d(%x, %w2, %b2) : f32[1,2,2,2]
  %3 = nn.relu(%1) : f32[1,2,2,2]
  return %3
}""")


def test_not_folded_when_shared_or_dynamic():
    text = """
graph @main(%x: f32[1,3,6,6], %g: f32[8]) -> (f32[1,8,6,6], f32[1,8,6,6]) {
  %w = const f32[8,3,3,3]
  %be = const f32[8]
  %m = const f32[8]
  %v = const f32[8]
  %1 = nn.conv2d(%x, %w) {pads=(1,1,1,1)} : f32[1,8,6,6]
  %2 = nn.batch_norm(%1, %g, %be, %m, %v) : f32[1,8,6,6]
  return %2, %1 as "raw"
}"""
    params = {"w": np.ones((8, 3, 3, 3), np.float32), **{k: v for k, v in _bn(8).items()
                                                        if k != "g"}}
    g = parse_graph(text, params=params)
    assert run_pipeline(g, "fold-batchnorm", PassContext()) is g
    assert [n.op for n in g.ops()] == ["nn.conv2d", "nn.batch_norm"]
