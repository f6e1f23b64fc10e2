"""Graphviz DOT form of a graph; nodes sharing `meta['group']` are drawn as one cluster."""

from __future__ import annotations

import json

from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ir.types import type_str


def _id(node: Node) -> str:
    return json.dumps("n:" + node.name)


def _label(text: str) -> str:
    # DOT reads `\n` inside a quoted label as a line break: keep it, escape the rest as JSON
    return json.dumps(text).replace("\\\\n", "\\n")


def graph_to_dot(graph: Graph, *, show_consts: bool = True) -> str:
    """DOT text; constants appear as small grey boxes (or not at all without `show_consts`)."""
    lines = [f"digraph {json.dumps(graph.name)} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="monospace"];']
    groups: dict[object, list[Node]] = {}
    for n in graph.nodes:
        if n.is_const and not show_consts:
            continue
        if n.is_input:
            label, attrs = f"{n.name}\\n{type_str(n.type)}", 'shape=ellipse, fillcolor="#d0e8ff"'
        elif n.is_const:
            label, attrs = f"{n.name}\\n{type_str(n.type)}", 'fillcolor="#eeeeee", fontsize=9'
        else:
            label, attrs = f"%{n.name} = {n.op}\\n{type_str(n.type)}", ""
        group = n.meta.get("group")
        if group is not None:
            groups.setdefault(group, []).append(n)
            continue
        lines.append(f"  {_id(n)} [label={_label(label)}" + (", " + attrs if attrs else "")
                     + "];")
    for gid, members in groups.items():
        lines.append(f"  subgraph {json.dumps(f'cluster_{gid}')} {{")
        lines.append(f'    label={json.dumps(f"kernel {gid}")}; style=dashed;')
        for n in members:
            label = f"%{n.name} = {n.op}\\n{type_str(n.type)}"
            lines.append(f"    {_id(n)} [label={_label(label)}];")
        lines.append("  }")
    for n in graph.nodes:
        for inp in n.inputs:
            if inp.is_const and not show_consts:
                continue
            lines.append(f"  {_id(inp)} -> {_id(n)};")
    for n, name in zip(graph.outputs, graph.output_names):
        out_id = json.dumps("out:" + name)
        lines.append(f'  {out_id} [label={json.dumps(name)}, shape=ellipse, fillcolor="#ffe0c0"];')
        lines.append(f"  {_id(n)} -> {out_id};")
    lines.append("}")
    return "\n".join(lines) + "\n"
