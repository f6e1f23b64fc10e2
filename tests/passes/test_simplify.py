"""simplify removes identities, dropouts, no-op reshapes/transposes/casts and transpose pairs."""


def test_identity_dropout_noops(check_pass):
    ctx = check_pass("""
graph @main(%x: f32[2,3]) -> f32[2,3] {
  %1 = identity(%x) : f32[2,3]
  %2 = nn.dropout(%1) : f32[2,3]
  %3 = reshape(%2) {newshape=(2,3)} : f32[2,3]
  %4 = cast(%3) {dtype="float32"} : f32[2,3]
  %5 = transpose(%4) {axes=(0,1)} : f32[2,3]
  %6 = exp(%5) : f32[2,3]
  return %6
}""", "simplify", """
graph @main(%x: f32[2,3]) -> f32[2,3] {
  %6 = exp(%x) : f32[2,3]
  return %6
}""")
    assert ctx.stats["simplify.identity"] == 1 and ctx.stats["simplify.transpose"] == 1


def test_transpose_pair_cancels_and_composes(check_pass):
    check_pass("""
graph @main(%x: f32[1,3,4,5]) -> (f32[1,3,4,5], f32[1,5,3,4]) {
  %1 = transpose(%x) {axes=(0,2,3,1)} : f32[1,4,5,3]
  %2 = transpose(%1) {axes=(0,3,1,2)} : f32[1,3,4,5]
  %3 = transpose(%x) {axes=(0,2,1,3)} : f32[1,4,3,5]
  %4 = transpose(%3) {axes=(0,3,2,1)} : f32[1,5,3,4]
  return %2, %4
}""", "simplify", """
graph @main(%x: f32[1,3,4,5]) -> (f32[1,3,4,5], f32[1,5,3,4]) {
  %5 = transpose(%x) {axes=(0,3,1,2)} : f32[1,5,3,4]
  return %x as "2", %5 as "4"
}""")


def test_reshape_chain_and_output_names(check_pass):
    check_pass("""
graph @main(%x: f32[2,6]) -> f32[12] {
  %1 = reshape(%x) {newshape=(3,4)} : f32[3,4]
  %2 = reshape(%1) {newshape=(12,)} : f32[12]
  return %2 as "flat"
}""", "simplify", """
graph @main(%x: f32[2,6]) -> f32[12] {
  %3 = reshape(%x) {newshape=(12,)} : f32[12]
  return %3 as "flat"
}""")


def test_keeps_real_work(check_pass):
    text = """
graph @main(%x: f32[2,3]) -> f32[3,2] {
  %1 = cast(%x) {dtype="float16"} : f16[2,3]
  %2 = transpose(%1) {axes=(1,0)} : f16[3,2]
  %3 = cast(%2) {dtype="float32"} : f32[3,2]
  return %3
}"""
    check_pass(text, "simplify", text, rtol=1e-3, atol=1e-3)
