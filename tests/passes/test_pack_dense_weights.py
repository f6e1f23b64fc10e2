"""pack-dense-weights: constant dense weights packed into N-blocks; everything else untouched."""

import numpy as np
import pytest

from edgecc.errors import PassError
from edgecc.ir.parser import parse_graph
from edgecc.ops.nn import pack_dense_weight, unpack_dense_weight
from edgecc.transform import PassContext, run_pipeline

# w [4, 3] = 0..11; packed by 2: w_p[jb, k, jl] = w[2 * jb + jl, k]
W = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]"
W_NK2N = "[0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]"


def test_packs_constant_weight(check_pass):
    ctx = check_pass(f"""
graph @main(%x: f32[5,3]) -> f32[5,4] {{
  %w = const f32[4,3] = {W}
  %b = const f32[4] = [0.5, -1.0, 2.0, 0.0]
  %1 = nn.dense(%x, %w, %b) : f32[5,4]
  %2 = nn.relu(%1) : f32[5,4]
  return %2
}}""", "pack-dense-weights{n-block=2}", f"""
graph @main(%x: f32[5,3]) -> f32[5,4] {{
  %w_nk2n = const f32[2,3,2] = {W_NK2N}
  %b = const f32[4] = [0.5, -1.0, 2.0, 0.0]
  %1 = nn.dense(%x, %w_nk2n, %b) {{weight_layout="NK2n"}} : f32[5,4]
  %2 = nn.relu(%1) : f32[5,4]
  return %2
}}""")
    assert ctx.stats["pack-dense-weights.packed"] == 1


def test_shared_constant_packed_once(check_pass):
    check_pass(f"""
graph @main(%x: f32[2,3], %y: f32[1,7,3]) -> (f32[2,4], f32[1,7,4]) {{
  %w = const f32[4,3] = {W}
  %1 = nn.dense(%x, %w) : f32[2,4]
  %2 = nn.dense(%y, %w) : f32[1,7,4]
  return %1, %2
}}""", "pack-dense-weights{n-block=2}", f"""
graph @main(%x: f32[2,3], %y: f32[1,7,3]) -> (f32[2,4], f32[1,7,4]) {{
  %w_nk2n = const f32[2,3,2] = {W_NK2N}
  %1 = nn.dense(%x, %w_nk2n) {{weight_layout="NK2n"}} : f32[2,4]
  %2 = nn.dense(%y, %w_nk2n) {{weight_layout="NK2n"}} : f32[1,7,4]
  return %1, %2
}}""")


def test_keeps_weight_with_other_users(check_pass):
    check_pass(f"""
graph @main(%x: f32[2,3]) -> (f32[2,4], f32[4,3]) {{
  %w = const f32[4,3] = {W}
  %1 = nn.dense(%x, %w) : f32[2,4]
  %2 = neg(%w) : f32[4,3]
  return %1, %2
}}""", "pack-dense-weights{n-block=2}", f"""
graph @main(%x: f32[2,3]) -> (f32[2,4], f32[4,3]) {{
  %w = const f32[4,3] = {W}
  %w_nk2n = const f32[2,3,2] = {W_NK2N}
  %1 = nn.dense(%x, %w_nk2n) {{weight_layout="NK2n"}} : f32[2,4]
  %2 = neg(%w) : f32[4,3]
  return %1, %2
}}""")


def test_untouched(check_pass):
    # N=4 not a multiple of 8; a run-time weight; an already packed weight (packed by 2)
    text = f"""
graph @main(%x: f32[2,3], %v: f32[8,3]) -> (f32[2,4], f32[2,8], f32[2,4]) {{
  %w = const f32[4,3] = {W}
  %p = const f32[2,3,2] = {W_NK2N}
  %1 = nn.dense(%x, %w) : f32[2,4]
  %2 = nn.dense(%x, %v) : f32[2,8]
  %3 = nn.dense(%x, %p) {{weight_layout="NK2n"}} : f32[2,4]
  return %1, %2, %3
}}"""
    ctx = check_pass(text, "pack-dense-weights{n-block=8}", text)
    assert ctx.stats.get("pack-dense-weights.packed", 0) == 0
    # the already packed dense computes what the plain one does
    check_pass(text, "pack-dense-weights{n-block=2}", text.replace(
        "%w = const f32[4,3]", "%w_nk2n = const f32[2,3,2]").replace(f"= {W}\n", f"= {W_NK2N}\n")
        .replace("nn.dense(%x, %w) :", 'nn.dense(%x, %w_nk2n) {weight_layout="NK2n"} :'))


def test_default_block_and_numerics():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((48, 20)).astype(np.float32)
    g = parse_graph("""
graph @main(%x: f32[3,20]) -> f32[3,48] {
  %w = const f32[48,20]
  %1 = nn.dense(%x, %w) : f32[3,48]
  return %1
}""", {"w": w})
    run_pipeline(g, "pack-dense-weights", PassContext())
    (dense,) = g.ops()
    assert dense.attrs["weight_layout"] == "NK16n" and dense.inputs[1].shape == (3, 20, 16)
    packed = dense.inputs[1].value
    assert packed is not None
    np.testing.assert_array_equal(packed, pack_dense_weight(w, 16))
    np.testing.assert_array_equal(unpack_dense_weight(packed, "NK16n"), w)
    assert packed[1, 5, 3] == w[1 * 16 + 3, 5]


def test_bad_option():
    g = parse_graph("graph @main(%x: f32[2]) -> f32[2] {\n  return %x\n}")
    with pytest.raises((PassError, ValueError), match="n-block"):
        run_pipeline(g, "pack-dense-weights{n-block=0}", PassContext())
