"""Helpers of the compute-rule tests: build a tiny graph, lower it, compare with the interpreter."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from edgecc.codegen.kernel import Kernel
from edgecc.ir.graph import Graph
from edgecc.ir.parser import parse_graph
from edgecc.ir.types import TensorType, canonical_dtype
from edgecc.testing.codegen import check_kernels


def check_op(op: str, *inputs: np.ndarray, attrs: Mapping[str, Any] | None = None,
             consts: Sequence[int] = (), rtol: float = 1e-5, atol: float = 1e-5) -> Kernel:
    """One `op` node on `inputs` (graph inputs, or constants at the positions in `consts`),
    lowered as one kernel and checked against the reference interpreter."""
    g = Graph()
    nodes, feeds = [], {}
    for k, arr in enumerate(inputs):
        arr = np.asarray(arr)
        if k in consts:
            nodes.append(g.add_const(arr, f"c{k}"))
        else:
            name = f"x{k}"
            nodes.append(g.add_input(name, TensorType(arr.shape, canonical_dtype(arr.dtype))))
            feeds[name] = arr
    node = g.create_node(op, nodes, dict(attrs or {}), name="y")
    g.set_outputs([node])
    kernels = check_kernels(g, feeds, rtol=rtol, atol=atol)
    assert len(kernels) == 1
    return kernels[0]


def check_group(text: str, inputs: Mapping[str, np.ndarray], *,
                params: Mapping[str, np.ndarray] | None = None, rtol: float = 1e-5,
                atol: float = 1e-5) -> Kernel:
    """Parse `text`, put all its op nodes in one group (one fused kernel) and check it."""
    g = parse_graph(text, params)
    for node in g.ops():
        node.meta["group"] = 0
    kernels = check_kernels(g, inputs, rtol=rtol, atol=atol)
    assert len(kernels) == 1 and len(kernels[0].nodes) == len(list(g.ops()))
    return kernels[0]


@pytest.fixture
def op_check() -> Callable[..., Kernel]:
    return check_op


@pytest.fixture
def group_check() -> Callable[..., Kernel]:
    return check_group


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
