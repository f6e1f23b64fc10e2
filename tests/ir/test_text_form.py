"""The text form round-trips (print -> parse -> print), and parse errors point at the problem."""

import numpy as np
import pytest

from edgecc.errors import ParseError
from edgecc.ir.compare import structural_diff, structural_equal
from edgecc.ir.parser import parse_graph
from edgecc.ir.printer import print_graph

TEXT = """\
graph @main(%x: f32[1,3,8,8], %"ids:0": i64[2]) -> (f32[1,4,8,8], f32[1,4]) {
  %w = const f32[4,3,3,3]
  %b = const f32[4] = [0.5, -1.0, 2.0, 0.0]
  %s = const f32[] = [nan]
  %1 = nn.conv2d(%x, %w, %b) {pads=(1,1,1,1)} : f32[1,4,8,8]
  %2 = nn.relu(%1) : f32[1,4,8,8]
  %3 = reduce.mean(%2) {axes=(2,3), keepdims=False} : f32[1,4]
  %4 = clip(%3) {min=0.0, max=6.0} : f32[1,4]
  return %2 as "features", %4
}
"""


def test_round_trip_is_identical():
    g = parse_graph(TEXT)
    assert print_graph(g) == TEXT
    g2 = parse_graph(print_graph(g))
    assert structural_equal(g, g2, names=True)


def test_default_attrs_are_filled_and_hidden():
    g = parse_graph(TEXT)
    conv = g.node("1")
    assert conv.attrs["strides"] == (1, 1) and conv.attrs["groups"] == 1
    assert "strides" not in print_graph(g)


def test_params_supply_big_constants():
    w = np.ones((4, 3, 3, 3), np.float32)
    g = parse_graph(TEXT, params={"w": w})
    assert g.node("w").value is w or np.array_equal(g.node("w").value, w)
    with pytest.raises(ParseError, match="shape"):
        parse_graph(TEXT, params={"w": np.ones((2,), np.float32)})


def test_structural_diff_names_the_difference():
    a = parse_graph(TEXT)
    b = parse_graph(TEXT.replace("max=6.0", "max=5.0"))
    assert "attrs" in structural_diff(a, b)
    c = parse_graph(TEXT.replace("[0.5, -1.0", "[0.25, -1.0"))
    assert "constant values" in structural_diff(a, c)


@pytest.mark.parametrize("bad, message, line", [
    (TEXT.replace("%2 = nn.relu(%1)", "%2 = nn.relu(%9)"), "used before it is defined", 6),
    (TEXT.replace("%3 = reduce.mean", "%2 = reduce.mean"), "defined twice", 7),
    (TEXT.replace(": f32[1,4,8,8]\n  %2", ": f32[1,4,8,9]\n  %2"), "given type", 5),
    (TEXT.replace("nn.relu", "nn.rellu"), "did you mean", 6),
    (TEXT.replace("[0.5, -1.0, 2.0, 0.0]", "[0.5]"), "needs 4", 3),
    (TEXT.replace("{pads=(1,1,1,1)}", "{pads=(1,1,1,1}"), "expected", 5),
    (TEXT.replace("-> (f32[1,4,8,8], f32[1,4])", "-> f32[1,4]"), "declares", 1),
    (TEXT.replace("f32[1,3,8,8]", "q32[1,3,8,8]"), "dtype", 1),
])
def test_parse_errors_name_the_line(bad, message, line):
    with pytest.raises(ParseError, match=message) as info:
        parse_graph(bad)
    assert info.value.line == line
