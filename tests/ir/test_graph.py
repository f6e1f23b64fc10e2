"""Graph editing verbs keep users, order and names consistent; verify catches broken graphs."""

import numpy as np
import pytest

from edgecc.errors import EdgeccError, TypeInferenceError, UnknownOpError, VerifyError
from edgecc.interpreter import run
from edgecc.ir import Graph, TensorType


def _chain():
    g = Graph()
    x = g.add_input("x", TensorType((4,)))
    a = g.create_node("exp", [x])
    b = g.create_node("neg", [a])
    g.set_outputs([b], ["y"])
    return g, x, a, b


def test_users_follow_inputs():
    g, x, a, b = _chain()
    assert list(x.users) == [a] and list(a.users) == [b]
    b.inputs = (x,)
    assert list(a.users) == [] and set(x.users) == {a, b}
    g.verify()


def test_replace_all_uses_and_erase():
    g, x, a, b = _chain()
    with g.inserting_before(b):
        c = g.create_node("abs", [a])
    assert g.nodes.index(c) == g.nodes.index(b) - 1
    assert g.replace_all_uses_with(b, c) == 1  # the output moves to c
    assert g.outputs == [c] and g.output_names == ["y"]
    g.erase_node(b)
    g.verify()
    with pytest.raises(EdgeccError, match="still used"):
        g.erase_node(a)


def test_inserting_after_keeps_order():
    g, x, a, b = _chain()
    with g.inserting_after(a):
        c1 = g.create_node("abs", [a])
        c2 = g.create_node("sqrt", [c1])
    order = [n.name for n in g.nodes]
    assert order.index(c1.name) == order.index(a.name) + 1
    assert order.index(c2.name) == order.index(c1.name) + 1


def test_unique_names_and_rename():
    g, x, a, b = _chain()
    n1 = g.create_node("abs", [x], name="t")
    n2 = g.create_node("abs", [x], name="t")
    assert (n1.name, n2.name) == ("t", "t_1")
    g.rename(n2, "u")
    assert g.node("u") is n2
    with pytest.raises(EdgeccError):
        g.rename(n1, "u")


def test_attrs_are_normalized_and_checked():
    g = Graph()
    x = g.add_input("x", TensorType((1, 3, 4, 4)))
    t = g.create_node("transpose", [x], {"axes": [0, 2, 3, 1]})
    assert t.attrs["axes"] == (0, 2, 3, 1) and t.shape == (1, 4, 4, 3)
    with pytest.raises(TypeInferenceError, match="unknown attribute"):
        g.create_node("transpose", [x], {"axes": (0, 1, 2, 3), "perm": 1})
    with pytest.raises(TypeInferenceError, match="missing required"):
        g.create_node("transpose", [x], {})
    with pytest.raises(UnknownOpError, match="did you mean transpose"):
        g.create_node("transpos", [x], {})


def test_verify_catches_use_before_def():
    g, x, a, b = _chain()
    g.move_before(b, a)
    with pytest.raises(VerifyError, match="before its definition"):
        g.verify()
    g.topo_sort()
    g.verify()


def test_verify_catches_wrong_type():
    g, x, a, b = _chain()
    b.type = TensorType((5,))
    with pytest.raises(VerifyError, match="rule gives"):
        g.verify()


def test_copy_is_independent():
    g, x, a, b = _chain()
    h = g.copy()
    h.node(a.name).inputs = ()
    assert a.inputs == (x,)
    feeds = {"x": np.arange(4, dtype=np.float32)}
    np.testing.assert_allclose(run(g, feeds)["y"], -np.exp(feeds["x"]), rtol=1e-6)


def test_tuple_types_and_get_item():
    g = Graph()
    x = g.add_input("x", TensorType((4, 6)))
    s = g.create_node("split", [x], {"axis": 1, "sizes": (2, 4)})
    assert isinstance(s.type, tuple) and len(s.type) == 2
    a = g.create_node("get_item", [s], {"index": 1})
    assert a.shape == (4, 4)
    with pytest.raises(TypeInferenceError, match="out of range"):
        g.create_node("get_item", [s], {"index": 2})
