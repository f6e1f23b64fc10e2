"""`edgecc info MODEL`: op counts, parameters, MACs, every tensor's shape, largest activation."""

from __future__ import annotations

import argparse
import json

from edgecc.cli.common import add_model_args, add_pipeline_args, load_graph, pipeline_text
from edgecc.ir.types import type_str
from edgecc.stats import graph_stats, human_bytes, human_count, node_macs


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarize a model: ops, parameters, MACs, tensor shapes")
    add_model_args(p)
    add_pipeline_args(p, default_level=0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.add_argument("--no-tensors", action="store_true", help="omit the per-tensor table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgecc.transform import run_pipeline

    graph = load_graph(args.model, args.input_shape)
    pipeline = pipeline_text(args, 0)
    run_pipeline(graph, pipeline)
    s = graph_stats(graph)
    tensors = [(n.name, n.op, type_str(n.type), node_macs(n)) for n in graph.nodes
               if not n.is_const]
    if args.json:
        print(json.dumps({
            "model": args.model, "pipeline": pipeline,
            "inputs": {n.name: type_str(n.type) for n in graph.inputs},
            "outputs": {name: type_str(n.type) for n, name in zip(graph.outputs,
                                                                  graph.output_names)},
            "op_counts": dict(sorted(s.op_counts.items())), "num_ops": sum(s.op_counts.values()),
            "params": s.num_params, "param_bytes": s.param_bytes, "constants": s.num_consts,
            "macs": s.macs, "macs_by_op": dict(s.macs_by_op.most_common()),
            "largest_activation": {"name": s.largest_activation[0],
                                   "bytes": s.largest_activation[1]},
            "tensors": [] if args.no_tensors else
            [{"name": a, "op": b, "type": c, "macs": d} for a, b, c, d in tensors],
        }, indent=1))
        return 0
    print(f"model: {args.model}   pipeline: {pipeline or '(none)'}")
    for n in graph.inputs:
        print(f"input  {n.name}: {type_str(n.type)}")
    for n, name in zip(graph.outputs, graph.output_names):
        print(f"output {name}: {type_str(n.type)}")
    print(f"\nops: {sum(s.op_counts.values())} nodes")
    for op, count in sorted(s.op_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        macs = s.macs_by_op.get(op, 0)
        print(f"  {count:6d}  {op:28s}" + (f"  {human_count(macs)}MACs" if macs else ""))
    print(f"\nparameters: {s.num_params:,} in {s.num_consts} constants "
          f"({human_bytes(s.param_bytes)})")
    print(f"MACs: {s.macs:,} ({human_count(s.macs)}MACs)")
    print(f"largest activation: %{s.largest_activation[0]} "
          f"({human_bytes(s.largest_activation[1])})")
    if not args.no_tensors:
        print("\ntensors:")
        width = max((len(t[0]) for t in tensors), default=4) + 1
        for name, op, t, macs in tensors:
            print(f"  %{name:{width}} {op:24s} {t}" + (f"  {macs:,} MACs" if macs else ""))
    return 0
