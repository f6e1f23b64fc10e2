"""dce removes what nothing uses, and nothing else."""


def test_removes_dead_chain_and_constants(check_pass):
    ctx = check_pass("""
graph @main(%x: f32[4], %unused: f32[4]) -> f32[4] {
  %c = const f32[4] = [1.0, 2.0, 3.0, 4.0]
  %1 = add(%x, %c) : f32[4]
  %2 = exp(%1) : f32[4]
  %3 = neg(%x) : f32[4]
  return %3
}""", "dce", """
graph @main(%x: f32[4], %unused: f32[4]) -> f32[4] {
  %3 = neg(%x) : f32[4]
  return %3
}""")
    assert ctx.stats["dce.removed"] == 3


def test_keeps_outputs_and_inputs(check_pass):
    text = """
graph @main(%x: f32[4]) -> (f32[4], f32[4]) {
  %1 = exp(%x) : f32[4]
  return %1, %x as "same"
}"""
    check_pass(text, "dce", text)
