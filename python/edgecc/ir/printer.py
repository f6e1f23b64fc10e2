"""The IR's text form; `parser.parse_graph` reads it back (print -> parse -> print is identical).

    graph @main(%x: f32[1,3,32,32]) -> f32[1,10] {
      %w0 = const f32[8,3,3,3]
      %s = const i64[2] = [1, 2]
      %1 = nn.conv2d(%x, %w0) {pads=(1,1,1,1)} : f32[1,8,32,32]{NCHW}
      ...
      return %9 as "logits"
    }

Attributes equal to the op's default are not printed. Constants of at most `INLINE_MAX`
elements print their values; larger ones print only their type (their data travels separately:
the JSON form, or `parse_graph(text, params=...)`).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from edgecc.ir.graph import Graph, valid_name
from edgecc.ir.node import Node
from edgecc.ir.types import type_str

INLINE_MAX = 8


def name_str(name: str) -> str:
    """A node name as it appears after `%`: bare, or JSON-quoted when it has odd characters."""
    return name if valid_name(name) else json.dumps(name)


def ref(node: Node) -> str:
    return "%" + name_str(node.name)


def format_scalar(x: Any) -> str:
    """One attribute or constant element."""
    if isinstance(x, (bool, np.bool_)):
        return "True" if x else "False"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        f = float(x)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if x is None:
        return "None"
    if isinstance(x, str):
        return json.dumps(x)
    if isinstance(x, tuple):
        inner = ",".join(format_scalar(v) for v in x)
        return "(" + inner + ("," if len(x) == 1 else "") + ")"
    raise TypeError(f"cannot print attribute value {x!r}")


def format_attrs(node: Node, all_attrs: bool = False) -> str:
    from edgecc.ops.registry import get_op

    defaults = get_op(node.op).attrs if not all_attrs else {}
    items = [(k, v) for k, v in node.attrs.items()
             if all_attrs or k not in defaults or defaults[k] != v
             or type(defaults[k]) is not type(v)]
    if not items:
        return ""
    return " {" + ", ".join(f"{k}={format_scalar(v)}" for k, v in items) + "}"


def format_node(node: Node, *, show_meta: tuple[str, ...] = ()) -> str:
    if node.is_const:
        text = f"{ref(node)} = const {type_str(node.type)}"
        if node.value is not None and node.value.size <= INLINE_MAX:
            flat = ", ".join(format_scalar(v) for v in node.value.reshape(-1).tolist())
            text += f" = [{flat}]"
    else:
        args = ", ".join(ref(i) for i in node.inputs)
        text = f"{ref(node)} = {node.op}({args}){format_attrs(node)} : {type_str(node.type)}"
    shown = [f"{k}={node.meta[k]}" for k in show_meta if k in node.meta]
    if shown:
        text += "  # " + " ".join(shown)
    return text


def print_graph(graph: Graph, *, show_meta: tuple[str, ...] = ()) -> str:
    """The text form of `graph`; `show_meta` appends those meta keys as comments."""
    params = ", ".join(f"{ref(n)}: {type_str(n.type)}" for n in graph.inputs)
    out_types = [type_str(n.type) for n in graph.outputs]
    rets = out_types[0] if len(out_types) == 1 else "(" + ", ".join(out_types) + ")"
    lines = [f"graph @{graph.name}({params}) -> {rets} {{"]
    for node in graph.nodes:
        if not node.is_input:
            lines.append("  " + format_node(node, show_meta=show_meta))
    outs = []
    for node, name in zip(graph.outputs, graph.output_names):
        outs.append(ref(node) + ("" if name == node.name else f" as {json.dumps(name)}"))
    lines.append("  return " + ", ".join(outs))
    lines.append("}")
    return "\n".join(lines) + "\n"
