"""edgecc as an ONNX backend (`onnx.backend.base.Backend`): prepare a model, then run it.

    import edgecc.onnx_backend as backend
    rep = backend.prepare(model)            # or backend.run_model(model, inputs)
    outputs = rep.run([x])                  # a namedtuple of numpy arrays, in output order

A prepared model runs compiled code by default (`executor="compiled"`: the graph is compiled
for this machine into a temporary artifact and loaded); `executor="interpreter"` runs the
reference interpreter instead (`EdgeccInterpreterBackend` makes that its default).

edgecc graphs are fully static: shape-like operands (Reshape's shape, Slice's starts, Resize's
sizes, reduction axes ...) become attributes at import. When such an operand is a *graph input*
(as in ONNX's single-node conformance cases) or a graph input has a symbolic dimension, the model
is imported when `run` sees the values, specialized to them, and cached per distinct value.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.base import Backend, BackendRep, namedtupledict

from edgecc.errors import InputError, UnsupportedError, UnsupportedOpsError
from edgecc.ir.graph import Graph

EXECUTORS = ("compiled", "interpreter")

# (op type -> input positions) whose *values* edgecc needs at import (catalog: shape-like
# parameters are attributes). A graph input reaching one of them is bound at `run` time.
STATIC_OPERANDS: dict[str, tuple[int, ...]] = {
    "Reshape": (1,),
    "Expand": (1,),
    "Tile": (1,),
    "Slice": (1, 2, 3, 4),
    "Pad": (1, 2, 3),
    "Resize": (1, 2, 3),
    "Upsample": (1,),
    "Split": (1,),
    "Squeeze": (1,),
    "Unsqueeze": (1,),
    "ConstantOfShape": (0,),
    "Range": (0, 1, 2),
    "Clip": (1, 2),
    "Dropout": (1, 2),
    "Trilu": (1,),
    "TopK": (1,),
    "OneHot": (1,),
    "CenterCropPad": (1,),
    "ReduceMean": (1,),
    "ReduceSum": (1,),
    "ReduceMax": (1,),
    "ReduceMin": (1,),
    "ReduceProd": (1,),
    "ReduceL1": (1,),
    "ReduceL2": (1,),
    "ReduceLogSum": (1,),
    "ReduceLogSumExp": (1,),
    "ReduceSumSquare": (1,),
}

# Ops whose result depends only on the *shape* of their input: the search for graph inputs
# that must be bound stops at them.
_SHAPE_ONLY = frozenset({"Shape", "Size"})

_ACCEPTED_KWARGS = frozenset({"executor", "input_shapes"})


def _check_device(device: str) -> None:
    if not EdgeccBackend.supports_device(device):
        raise UnsupportedError(f"edgecc's ONNX backend runs on CPU only, not {device!r}")


def _check_executor(executor: str) -> None:
    if executor not in EXECUTORS:
        raise UnsupportedError(
            f"executor {executor!r} is not implemented yet; available: {', '.join(EXECUTORS)}")


def static_graph_inputs(model: onnx.ModelProto) -> list[str]:
    """Graph inputs whose values edgecc needs at import, in graph input order.

    A graph input counts when it reaches a `STATIC_OPERANDS` position through any chain of
    nodes that does not pass through a shape-only op (`Shape`, `Size`).
    """
    g = model.graph
    init_names = {t.name for t in g.initializer}
    real_inputs = [i.name for i in g.input if i.name not in init_names]
    producer = {out: node for node in g.node for out in node.output if out}
    needed: set[str] = set()
    seen: set[str] = set()
    stack = [node.input[i] for node in g.node for i in STATIC_OPERANDS.get(node.op_type, ())
             if (node.domain in ("", "ai.onnx")) and i < len(node.input) and node.input[i]]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in real_inputs:
            needed.add(name)
            continue
        node = producer.get(name)
        if node is not None and node.op_type not in _SHAPE_ONLY:
            stack.extend(i for i in node.input if i)
    return [n for n in real_inputs if n in needed]


def _has_dynamic_dims(vi: onnx.ValueInfoProto) -> bool:
    tt = vi.type.tensor_type
    if not tt.HasField("shape"):
        return True
    return any(not (d.HasField("dim_value") and d.dim_value > 0) for d in tt.shape.dim)


def bind_inputs(model: onnx.ModelProto, values: Mapping[str, np.ndarray]) -> onnx.ModelProto:
    """A copy of `model` where the named graph inputs become initializers holding `values`."""
    bound = copy.deepcopy(model)
    g = bound.graph
    keep = [vi for vi in g.input if vi.name not in values]
    del g.input[:]
    g.input.extend(keep)
    for name, value in values.items():
        g.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    return bound


class EdgeccRep(BackendRep):
    """A prepared model: `run(inputs)` returns its outputs in the graph's output order."""

    def __init__(self, model: onnx.ModelProto, executor: str = "compiled",
                 input_shapes: Mapping[str, Sequence[int]] | None = None) -> None:
        from edgecc.frontend.onnx import from_onnx

        _check_executor(executor)
        self.model = model
        self.executor = executor
        g = model.graph
        init_names = {t.name for t in g.initializer}
        self.input_names = [i.name for i in g.input if i.name not in init_names]
        self.output_names = [o.name for o in g.output]
        self.static_inputs = static_graph_inputs(model)
        self._input_shapes = dict(input_shapes or {})
        self._dynamic = any(_has_dynamic_dims(vi) for vi in g.input
                            if vi.name in self.input_names and vi.name not in self._input_shapes)
        self._cache: dict[Any, Graph] = {}
        self._compiled: dict[int, tuple[Any, Any]] = {}  # id(graph) -> (tmpdir, CompiledModel)
        self.graph: Graph | None = None
        if not self.static_inputs and not self._dynamic:
            self.graph = from_onnx(model, input_shapes=self._input_shapes or None)

    # ------------------------------------------------------------------ inputs
    def _feeds(self, inputs: Any) -> dict[str, np.ndarray]:
        if isinstance(inputs, Mapping):
            feeds = {str(k): np.asarray(v) for k, v in inputs.items()}
        elif isinstance(inputs, np.ndarray) and len(self.input_names) == 1:
            feeds = {self.input_names[0]: inputs}
        elif isinstance(inputs, (list, tuple)):
            if len(inputs) != len(self.input_names):
                raise InputError(f"got {len(inputs)} input(s), the model takes "
                                 f"{len(self.input_names)}: {self.input_names}")
            feeds = {n: np.asarray(v) for n, v in zip(self.input_names, inputs)}
        else:
            raise InputError(f"inputs must be a list, tuple or dict of arrays, not "
                             f"{type(inputs).__name__}")
        unknown = sorted(set(feeds) - set(self.input_names))
        missing = [n for n in self.input_names if n not in feeds]
        if unknown or missing:
            raise InputError(f"unknown input(s) {unknown}, missing input(s) {missing}; the "
                             f"model's inputs are {self.input_names}")
        return feeds

    def graph_for(self, feeds: Mapping[str, np.ndarray]) -> Graph:
        """The imported graph for these inputs (specialized and cached when needed)."""
        from edgecc.frontend.onnx import from_onnx

        if self.graph is not None:
            return self.graph
        bound = {n: np.asarray(feeds[n]) for n in self.static_inputs}
        shapes = {n: tuple(np.shape(feeds[n])) for n in self.input_names if n not in bound}
        shapes.update({k: tuple(v) for k, v in self._input_shapes.items()})
        key = (tuple((n, v.dtype.str, v.shape, v.tobytes()) for n, v in bound.items()),
               tuple(sorted(shapes.items())))
        graph = self._cache.get(key)
        if graph is None:
            model = bind_inputs(self.model, bound) if bound else self.model
            graph = from_onnx(model, input_shapes=shapes or None)
            self._cache[key] = graph
        return graph

    # ------------------------------------------------------------------ running
    def run(self, inputs: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Run the model.

        Args:
            inputs: arrays in graph input order (initializers excluded), or a dict by name.

        Returns:
            A namedtuple of numpy arrays, one per graph output, in output order.
        """
        from edgecc import interpreter

        if kwargs:
            raise TypeError(f"run() got unexpected keyword argument(s) {sorted(kwargs)}")
        feeds = self._feeds(inputs)
        graph = self.graph_for(feeds)
        live = {n.name for n in graph.inputs}
        feeds = {k: v for k, v in feeds.items() if k in live}
        if self.executor == "compiled":
            result = self._compiled_model(graph)(feeds)
        else:
            result = interpreter.run(graph, feeds)
        values = [result[name] for name in self.output_names]
        return namedtupledict("Outputs", self.output_names)(*values)


    def _compiled_model(self, graph: Graph) -> Any:
        import tempfile

        from edgecc.compiler import compile_model
        from edgecc.runtime import load

        entry = self._compiled.get(id(graph))
        if entry is None:
            folder = tempfile.TemporaryDirectory(prefix="edgecc-backend-")
            compile_model(graph.copy(), folder.name, reference=False)
            entry = (folder, load(folder.name))
            self._compiled[id(graph)] = entry
        return entry[1]


class EdgeccBackend(Backend):
    """ONNX backend interface to edgecc: CPU, compiled code by default."""

    default_executor = "compiled"

    @classmethod
    def prepare(cls, model: onnx.ModelProto | str, device: str = "CPU",
                **kwargs: Any) -> EdgeccRep:
        """Import `model` (a ModelProto or a path) for repeated runs.

        Args:
            model: the ONNX model.
            device: "CPU" only.
            **kwargs: `executor` ("compiled" or "interpreter"), `input_shapes` (name ->
                shape for inputs with symbolic dimensions).

        Raises:
            UnsupportedOpsError: listing every op edgecc cannot import.
            UnsupportedError: another device or executor.
        """
        from edgecc.frontend.onnx import load_model, unsupported_ops

        unknown = sorted(set(kwargs) - _ACCEPTED_KWARGS)
        if unknown:
            raise TypeError(f"prepare() got unexpected keyword argument(s) {unknown}; it "
                            f"takes {sorted(_ACCEPTED_KWARGS)}")
        _check_device(device)
        executor = kwargs.get("executor", cls.default_executor)
        _check_executor(executor)
        proto = load_model(model)
        missing = unsupported_ops(proto)
        if missing:
            raise UnsupportedOpsError(missing)
        return EdgeccRep(proto, executor=executor, input_shapes=kwargs.get("input_shapes"))

    @classmethod
    def run_model(cls, model: onnx.ModelProto | str, inputs: Any, device: str = "CPU",
                  **kwargs: Any) -> tuple[Any, ...]:
        """Prepare and run `model` once."""
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: onnx.NodeProto, inputs: Any, device: str = "CPU",
                 outputs_info: Sequence[tuple[Any, tuple[int, ...]]] | None = None,
                 **kwargs: Any) -> tuple[Any, ...]:
        """Run one node on `inputs` (a list in the node's input order, or a dict by name).

        `opset_version` (keyword) chooses the ai.onnx opset; the default is the newest.
        """
        opset = int(kwargs.pop("opset_version", onnx.defs.onnx_opset_version()))
        names = [n for n in node.input if n]
        if isinstance(inputs, Mapping):
            arrays = {n: np.asarray(inputs[n]) for n in names}
        else:
            if len(inputs) != len(names):
                raise InputError(f"node {node.op_type} takes {len(names)} input(s), got "
                                 f"{len(inputs)}")
            arrays = {n: np.asarray(v) for n, v in zip(names, inputs)}
        graph_inputs = [
            onnx.helper.make_tensor_value_info(
                n, onnx.helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in arrays.items()]
        graph_outputs = [onnx.helper.make_empty_tensor_value_info(o) for o in node.output if o]
        graph = onnx.helper.make_graph([node], f"run_node_{node.op_type}", graph_inputs,
                                       graph_outputs)
        opsets = [onnx.helper.make_opsetid("", opset)]
        if node.domain not in ("", "ai.onnx"):
            opsets.append(onnx.helper.make_opsetid(node.domain, 1))
        model = onnx.helper.make_model(graph, opset_imports=opsets)
        return cls.prepare(model, device, **kwargs).run(arrays)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        """Only the CPU."""
        return device.split(":")[0].upper() == "CPU"


class EdgeccInterpreterBackend(EdgeccBackend):
    """The same backend running the reference interpreter by default (conformance of the
    frontend and the op references, without code generation)."""

    default_executor = "interpreter"


prepare = EdgeccBackend.prepare
run_model = EdgeccBackend.run_model
run_node = EdgeccBackend.run_node
supports_device = EdgeccBackend.supports_device
