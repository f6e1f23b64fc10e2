"""Every IR op has a compute rule (get_item and split are tuple ops: the codegen pipeline
rewrites split + get_item into slices before lowering), and rules refuse what they cannot do."""

from __future__ import annotations

import inspect

import pytest

from edgecc.codegen.compute import get_compute, has_compute
from edgecc.codegen.compute.registry import ops_with_compute
from edgecc.codegen.kernel import partition
from edgecc.codegen.lower import kernel_primfunc
from edgecc.errors import UnsupportedError
from edgecc.ir.graph import Graph
from edgecc.ir.types import TensorType
from edgecc.ops import get_op, list_ops

TUPLE_OPS = {"get_item", "split"}


def test_every_op_has_a_compute_rule() -> None:
    missing = [op for op in list_ops() if op not in TUPLE_OPS and not has_compute(op)]
    assert missing == []


def test_no_rule_for_a_tuple_op() -> None:
    assert set(ops_with_compute()) <= set(list_ops())
    with pytest.raises(UnsupportedError, match="no code generation rule"):
        get_compute("split")


@pytest.mark.parametrize("op", sorted(set(list_ops()) - TUPLE_OPS))
def test_rule_takes_the_ops_attributes(op: str) -> None:
    # a rule's keyword parameters are out_type plus the op's attributes (or **attrs)
    params = inspect.signature(get_compute(op)).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    kw = {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert kw == {"out_type", *get_op(op).attrs}


def _lower_one(op: str, *types: TensorType, **attrs: object) -> None:
    g = Graph()
    ins = [g.add_input(f"x{k}", t) for k, t in enumerate(types)]
    g.set_outputs([g.create_node(op, ins, attrs)])
    (kernel,) = partition(g)
    kernel_primfunc(kernel)


@pytest.mark.parametrize("op, types, attrs, match", [
    ("pow", [TensorType((2,), "bool")] * 2, {}, "bool"),
    ("sub", [TensorType((2,), "bool")] * 2, {}, "bool"),
    ("mod", [TensorType((2,), "bool")] * 2, {}, "bool"),
    ("clip", [TensorType((2,), "int32")], {"min": float("nan")}, "NaN bound"),
    ("nn.conv2d", [TensorType((1, 2, 4, 4), "bool"), TensorType((2, 2, 1, 1), "bool")], {},
     "bool"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_unsupported_combinations_raise(op, types, attrs, match) -> None:
    with pytest.raises(UnsupportedError, match=match):
        _lower_one(op, *types, **attrs)
