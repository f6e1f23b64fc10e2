"""The IR's JSON form: the text form's structure plus constant data (base64) and JSON-safe meta."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from edgecc.errors import EdgeccError
from edgecc.ir.graph import Graph
from edgecc.ir.parser import parse_type
from edgecc.ir.types import TensorType, type_str

FORMAT = "edgecc-graph"
VERSION = 1


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def _attr_to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_attr_to_json(v) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return {"float": repr(value)}
    return value


def _attr_from_json(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_attr_from_json(v) for v in value)
    if isinstance(value, dict) and set(value) == {"float"}:
        return float(value["float"])
    return value


def graph_to_dict(graph: Graph, *, values: bool = True) -> dict[str, Any]:
    """A JSON-ready dict of `graph`; with `values`, constant data is included (base64)."""
    nodes = []
    for n in graph.nodes:
        if n.is_input:
            continue
        entry: dict[str, Any] = {"name": n.name, "op": n.op, "type": type_str(n.type)}
        if n.is_const:
            if values and n.value is not None:
                entry["data"] = base64.b64encode(np.ascontiguousarray(n.value).tobytes()).decode()
        else:
            entry["inputs"] = [i.name for i in n.inputs]
            entry["attrs"] = {k: _attr_to_json(v) for k, v in n.attrs.items()}
        meta = {k: v for k, v in n.meta.items() if _jsonable(v)}
        if meta:
            entry["meta"] = meta
        nodes.append(entry)
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": graph.name,
        "inputs": [{"name": n.name, "type": type_str(n.type)} for n in graph.inputs],
        "nodes": nodes,
        "outputs": [{"node": n.name, "name": name}
                    for n, name in zip(graph.outputs, graph.output_names)],
    }


def graph_to_json(graph: Graph, *, values: bool = True, indent: int | None = 1) -> str:
    return json.dumps(graph_to_dict(graph, values=values), indent=indent)


def graph_from_dict(data: dict[str, Any]) -> Graph:
    if data.get("format") != FORMAT:
        raise EdgeccError(f"not an edgecc graph (format {data.get('format')!r})")
    if data.get("version") != VERSION:
        raise EdgeccError(f"edgecc graph version {data.get('version')} is not supported "
                          f"(this edgecc reads version {VERSION})")
    g = Graph(data["name"])
    for i in data["inputs"]:
        t = parse_type(i["type"])
        assert isinstance(t, TensorType)
        g.add_input(i["name"], t)
    for n in data["nodes"]:
        t = parse_type(n["type"])
        if n["op"] == "const":
            assert isinstance(t, TensorType)
            value = None
            if "data" in n:
                raw = base64.b64decode(n["data"])
                value = np.frombuffer(raw, dtype=t.dtype).reshape(t.shape).copy()
            node = g.add_const(value, name=n["name"], type=t)
        else:
            attrs = {k: _attr_from_json(v) for k, v in n["attrs"].items()}
            node = g.create_node(n["op"], [g.node(x) for x in n["inputs"]], attrs,
                                 name=n["name"], type=t)
        node.meta.update(n.get("meta", {}))
    g.set_outputs([g.node(o["node"]) for o in data["outputs"]],
                  [o["name"] for o in data["outputs"]])
    g.verify()
    return g


def graph_from_json(text: str) -> Graph:
    return graph_from_dict(json.loads(text))
