"""Import an ONNX model into a static edgecc `Graph`."""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import onnx
from onnx import numpy_helper

from edgecc.errors import (
    ConversionError,
    EdgeccError,
    InputError,
    ModelLoadError,
    ShapeError,
    UnsupportedError,
    UnsupportedOpsError,
)
from edgecc.frontend.onnx.context import ConvertContext
from edgecc.frontend.onnx.registry import find_converter
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ir.types import TensorType, canonical_dtype

ModelLike = str | os.PathLike | onnx.ModelProto
Shapes = Mapping[str, Sequence[int]]


def load_model(model: ModelLike) -> onnx.ModelProto:
    """Load an ONNX model (with external data next to it); raises `ModelLoadError`."""
    if isinstance(model, onnx.ModelProto):
        return model
    path = Path(model)
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    try:
        proto = onnx.load(str(path), load_external_data=True)
    except Exception as exc:  # protobuf and file errors come in many classes
        raise ModelLoadError(f"cannot read {path} as an ONNX model: {exc}") from exc
    if not proto.graph.node and not proto.graph.output:
        raise ModelLoadError(f"{path} holds no ONNX graph (empty or not an ONNX file)")
    return proto


def model_opsets(model: onnx.ModelProto) -> dict[str, int]:
    """Opset per domain ('' is ai.onnx)."""
    opsets = {("" if o.domain == "ai.onnx" else o.domain): o.version for o in model.opset_import}
    opsets.setdefault("", 1)
    return opsets


def unsupported_ops(model: onnx.ModelProto) -> list[tuple[str, str, int, list[str]]]:
    """Every (domain, op, opset) in the model without a converter, with the nodes using it."""
    opsets = model_opsets(model)
    missing: dict[tuple[str, str, int], list[str]] = {}
    for i, node in enumerate(model.graph.node):
        domain = "" if node.domain == "ai.onnx" else node.domain
        opset = opsets.get(domain, 0)
        if find_converter(domain, node.op_type, opset) is None:
            missing.setdefault((domain, node.op_type, opset), []).append(node.name or f"#{i}")
    return [(d, op, v, names) for (d, op, v), names in missing.items()]


def from_onnx(model: ModelLike, input_shapes: Shapes | None = None) -> Graph:
    """Convert an ONNX model (path or ModelProto) to a fully static `Graph`.

    Args:
        model: the model file or proto.
        input_shapes: shapes for inputs whose dimensions are symbolic, or to override them.

    Raises:
        UnsupportedOpsError: listing every unsupported op before anything is converted.
        ShapeError: a dimension that stays dynamic.
        ConversionError / UnsupportedError: a node that cannot be converted, named.
    """
    proto = load_model(model)
    missing = unsupported_ops(proto)
    if missing:
        raise UnsupportedOpsError(missing)
    return _Importer(proto, dict(input_shapes or {})).run()


_BAD_CHARS = re.compile(r"[^A-Za-z0-9_.\-/]")


class _Importer:
    def __init__(self, model: onnx.ModelProto, shapes: dict[str, Sequence[int]]) -> None:
        self.model = model
        self.shapes = shapes
        self.graph = Graph(_BAD_CHARS.sub("_", model.graph.name) or "main")
        self.ctx = ConvertContext(self.graph, model_opsets(model))
        self.env: dict[str, Node] = {}
        # outputs a converter could not produce: an error only if something reads them
        self.missing: dict[str, str] = {}

    def run(self) -> Graph:
        g = self.model.graph
        init_names = {t.name for t in g.initializer}
        real_inputs = [i for i in g.input if i.name not in init_names]
        unknown = set(self.shapes) - {i.name for i in real_inputs}
        if unknown:
            raise InputError(f"--input-shape names {sorted(unknown)}, but the model's inputs "
                             f"are {[i.name for i in real_inputs]}")
        for vi in real_inputs:
            self.env[vi.name] = self.graph.add_input(vi.name, self._input_type(vi))
        for tensor in g.initializer:
            self.env[tensor.name] = self._initializer(tensor)
        for index, node in enumerate(g.node):
            self._convert(node, index)
        outs = []
        for vi in g.output:
            if vi.name in self.missing:
                raise UnsupportedError(self.missing[vi.name])
            if vi.name not in self.env:
                raise ConversionError(f"graph output {vi.name!r} is not produced by any node")
            outs.append(self.env[vi.name])
        self.graph.set_outputs(outs, [vi.name for vi in g.output])
        self.graph.verify()
        return self.graph

    # ------------------------------------------------------------------ inputs
    def _input_type(self, vi: onnx.ValueInfoProto) -> TensorType:
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type"):
            raise UnsupportedError(f"input {vi.name!r} is not a tensor (sequences and maps are "
                                   "not supported)")
        dtype = _onnx_dtype(tt.elem_type, f"input {vi.name!r}")
        if vi.name in self.shapes:
            shape = tuple(int(d) for d in self.shapes[vi.name])
            if tt.HasField("shape"):
                model_dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                              for d in tt.shape.dim]
                if len(model_dims) != len(shape) or any(
                        m is not None and m != s for m, s in zip(model_dims, shape)):
                    shown = [m if m is not None else "?" for m in model_dims]
                    raise ShapeError(f"input {vi.name!r}: given shape {list(shape)} does not fit "
                                     f"the model's {shown}")
            return TensorType(shape, dtype)
        if not tt.HasField("shape"):
            raise ShapeError(f"input {vi.name!r} has no shape in the model; give one with "
                             f"--input-shape {vi.name}=...")
        dims = []
        for axis, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(d.dim_value)
            else:
                sym = d.dim_param or "?"
                raise ShapeError(
                    f"input {vi.name!r} dimension {axis} is dynamic ({sym!r}); give the shape "
                    f"with --input-shape {vi.name}=d0,d1,... (input_shapes= in Python)")
        return TensorType(tuple(dims), dtype)

    def _initializer(self, tensor: onnx.TensorProto) -> Node:
        try:
            value = numpy_helper.to_array(tensor)
        except Exception as exc:
            raise ModelLoadError(f"initializer {tensor.name!r} cannot be read: {exc}") from exc
        _onnx_dtype(tensor.data_type, f"initializer {tensor.name!r}")
        return self.graph.add_const(value, name=_BAD_CHARS.sub("_", tensor.name) or "w")

    # ------------------------------------------------------------------ nodes
    def _convert(self, node: onnx.NodeProto, index: int) -> None:
        domain = "" if node.domain == "ai.onnx" else node.domain
        name = node.name or f"{node.op_type}#{index}"
        ctx = self.ctx
        ctx.op_type, ctx.node_name = node.op_type, name
        ctx.num_outputs = len(node.output)
        fn = find_converter(domain, node.op_type, ctx.opsets.get(domain, 0))
        assert fn is not None  # checked up front by unsupported_ops
        inputs: list[Node | None] = []
        for inp in node.input:
            if inp == "":
                inputs.append(None)
            elif inp in self.env:
                inputs.append(self.env[inp])
            elif inp in self.missing:
                raise UnsupportedError(self.missing[inp])
            else:
                raise ConversionError(f"{ctx.where()}: input {inp!r} is not defined before it")
        inputs += [None] * (_formal_inputs(node, domain, ctx.opsets) - len(inputs))
        attrs = {a.name: _attr_value(a, ctx) for a in node.attribute}
        _check_attrs(fn, attrs, ctx)
        try:
            result = fn(ctx, inputs, **attrs)
        except EdgeccError as exc:
            if ctx.node_name in str(exc):
                raise
            raise type(exc)(f"{ctx.where()}: {exc}") from exc
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        for i, out_name in enumerate(node.output):
            if out_name == "":
                continue
            if i >= len(outputs) or outputs[i] is None:
                self.missing[out_name] = str(ctx.unsupported(
                    f"output {i} ({out_name!r}) is not supported, and it is used"))
                continue
            self.env[out_name] = outputs[i]


def _formal_inputs(node: onnx.NodeProto, domain: str, opsets: Mapping[str, int]) -> int:
    try:
        schema = onnx.defs.get_schema(node.op_type, opsets.get(domain, 1), domain)
    except Exception:  # no schema (custom domain): no padding
        return len(node.input)
    formal = schema.inputs
    if formal and formal[-1].option == onnx.defs.OpSchema.FormalParameterOption.Variadic:
        return len(node.input)
    return max(len(formal), len(node.input))


def _attr_value(attr: onnx.AttributeProto, ctx: ConvertContext) -> Any:
    kind = attr.type
    A = onnx.AttributeProto
    if kind == A.FLOAT:
        return float(attr.f)
    if kind == A.INT:
        return int(attr.i)
    if kind == A.STRING:
        return attr.s.decode("utf-8")
    if kind == A.TENSOR:
        return numpy_helper.to_array(attr.t)
    if kind == A.FLOATS:
        return [float(x) for x in attr.floats]
    if kind == A.INTS:
        return [int(x) for x in attr.ints]
    if kind == A.STRINGS:
        return [s.decode("utf-8") for s in attr.strings]
    raise ctx.unsupported(f"attribute {attr.name!r} of type "
                          f"{A.AttributeType.Name(kind)} is not supported")


def _check_attrs(fn: Any, attrs: Mapping[str, Any], ctx: ConvertContext) -> None:
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    keywords = {n: p for n, p in params.items() if p.kind == p.KEYWORD_ONLY}
    extra = sorted(set(attrs) - set(keywords))
    if extra:
        raise ctx.unsupported(f"attribute(s) {extra} not supported")
    missing = sorted(n for n, p in keywords.items() if p.default is p.empty and n not in attrs)
    if missing:
        raise ctx.error(f"missing required attribute(s) {missing}")


def _onnx_dtype(elem_type: int, what: str) -> str:
    try:
        np_dtype = onnx.helper.tensor_dtype_to_np_dtype(elem_type)
        return canonical_dtype(np_dtype)
    except Exception:
        name = onnx.TensorProto.DataType.Name(elem_type) if elem_type else "UNDEFINED"
        raise UnsupportedError(f"{what}: element type {name} is not supported") from None

