"""split-to-slices turns used split pieces into slices."""


def test_pieces_become_slices(check_pass):
    check_pass("""
graph @main(%x: f32[4,5]) -> (f32[4,3], f32[4,2]) {
  %1 = split(%x) {axis=1, sizes=(2,3)} : (f32[4,2], f32[4,3])
  %2 = get_item(%1) {index=1} : f32[4,3]
  %3 = get_item(%1) {index=0} : f32[4,2]
  %4 = exp(%3) : f32[4,2]
  return %2, %4
}""", "split-to-slices", """
graph @main(%x: f32[4,5]) -> (f32[4,3], f32[4,2]) {
  %5 = slice(%x) {starts=(2,), ends=(5,), axes=(1,), steps=(1,)} : f32[4,3]
  %6 = slice(%x) {starts=(0,), ends=(2,), axes=(1,), steps=(1,)} : f32[4,2]
  %4 = exp(%6) : f32[4,2]
  return %5 as "2", %4
}""")
