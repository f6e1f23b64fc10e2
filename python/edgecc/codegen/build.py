"""Assemble lowered kernels into one Relax module (a `call_tir` per kernel, weights as constants)
and compile it with TVM."""

from __future__ import annotations

from typing import Any

from edgecc.codegen.lower import LoweredKernel
from edgecc.errors import CodegenError
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node


def relax_module(graph: Graph, lowered: list[LoweredKernel]) -> Any:
    """The Relax IRModule running `lowered` (in order) on the graph's inputs."""
    from tvm import relax

    bb = relax.BlockBuilder()
    gvars = {lk.kernel.name: bb.add_func(lk.func, lk.kernel.name) for lk in lowered}
    params = [relax.Var(f"in{i}", relax.TensorType(n.shape, n.dtype))
              for i, n in enumerate(graph.inputs)]
    env: dict[Node, Any] = dict(zip(graph.inputs, params))

    def value(node: Node) -> Any:
        if node in env:
            return env[node]
        if node.is_const:
            if node.value is None:
                raise CodegenError(f"constant %{node.name} has no value")
            env[node] = relax.const(node.value, node.dtype)
            return env[node]
        raise CodegenError(f"%{node.name} ({node.op}) is used before a kernel computes it")

    with bb.function("main", params):
        with bb.dataflow():
            for lk in lowered:
                k = lk.kernel
                out = k.output.ttype
                env[k.output] = bb.emit(relax.call_tir(
                    gvars[k.name], [value(p) for p in k.params],
                    relax.TensorType(out.shape, out.dtype)))
            outs = [value(n) for n in graph.outputs]
            result = bb.emit_output(outs[0] if len(outs) == 1 else relax.Tuple(outs))
        bb.emit_func_output(result)
    return bb.get()


def build(graph: Graph, lowered: list[LoweredKernel], target: Any) -> Any:
    """Compile the graph's Relax module for a TVM target; returns the executable."""
    from edgecc import tvm_api

    mod = relax_module(graph, lowered)
    try:
        return tvm_api.compile_module(mod, tvm_api.make_target(target))
    except Exception as exc:
        raise CodegenError(f"building the module failed: {type(exc).__name__}: "
                           f"{str(exc).strip().splitlines()[-1]}") from exc
