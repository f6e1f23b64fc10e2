"""Check generated code against the interpreter, one kernel at a time (for compute and schedule
tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgecc import tvm_api
from edgecc.codegen.kernel import Kernel, partition
from edgecc.codegen.lower import LoweredKernel, lower_kernel
from edgecc.interpreter import run
from edgecc.ir.graph import Graph
from edgecc.ir.parser import parse_graph
from edgecc.ir.types import TensorType, canonical_dtype
from edgecc.schedules.space import Config
from edgecc.targets import get_target


def run_lowered(lowered: LoweredKernel, values: Mapping[Any, np.ndarray],
                target: Any) -> np.ndarray:
    """Compile one lowered kernel on its own and run it on its params' values."""
    lib = tvm_api.compile_primfunc(lowered.func, tvm_api.make_target(target.tvm),
                                   lowered.kernel.name)
    args = [tvm_api.to_device(np.asarray(values[p])) for p in lowered.kernel.params]
    out_t = lowered.kernel.output.ttype
    out = tvm_api.empty(out_t.shape, out_t.dtype)
    lib[lowered.kernel.name](*args, out)
    return out.numpy()


def check_kernels(graph: Graph, inputs: Mapping[str, np.ndarray], *, rtol: float = 1e-5,
                  atol: float = 1e-5, config: Config | None = None,
                  template: Any = None) -> list[Kernel]:
    """Lower, compile and run every kernel of `graph`; compare each with the interpreter."""
    target = get_target("x86")
    values = run(graph, inputs, keep_all=True)
    kernels = partition(graph)
    for kernel in kernels:
        lowered = lower_kernel(kernel, target, config, template)
        feeds = {p: values[p.name] for p in kernel.params}
        got = run_lowered(lowered, feeds, target)
        np.testing.assert_allclose(got, values[kernel.output.name], rtol=rtol, atol=atol,
                                   err_msg=f"kernel {kernel.name} ({kernel.describe()})")
    return kernels


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
