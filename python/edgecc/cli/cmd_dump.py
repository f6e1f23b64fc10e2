"""`edgecc dump MODEL`: the IR after a pipeline, and optionally after each of its passes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgecc.cli.common import add_model_args, add_pipeline_args, load_graph, pipeline_text
from edgecc.transform.instruments import DumpIR, Instrument, PassTiming, PrintIR


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dump", help="print the IR of a model, before/after passes",
                       description="Import a model, run a pass pipeline and print the IR.")
    add_model_args(p)
    add_pipeline_args(p, default_level=0)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--print-after-all", action="store_true",
                       help="print the IR after every pass")
    which.add_argument("--print-after", metavar="P1,P2", help="print the IR after these passes")
    which.add_argument("--print-after-change", action="store_true",
                       help="print the IR after each pass that changed it")
    p.add_argument("--print-before-all", action="store_true",
                   help="print the IR before every pass")
    p.add_argument("--format", choices=("text", "json", "dot"), default="text",
                   help="format of the final IR (default text)")
    p.add_argument("--dump-dir", metavar="DIR",
                   help="write 000_input.ir, 001_<pass>.ir, ... into DIR")
    p.add_argument("--pass-timing", action="store_true", help="print a per-pass timing table")
    p.add_argument("-o", "--output", metavar="FILE", help="write the final IR to FILE")
    p.add_argument("--no-final", action="store_true", help="do not print the final IR")
    p.add_argument("--show-meta", default="group,mem_offset,mem_alias", metavar="K1,K2",
                   help="node meta keys shown as comments in the text form (default: the fusion "
                   "group and the planned memory offset)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgecc.ir.dot import graph_to_dot
    from edgecc.ir.printer import print_graph
    from edgecc.ir.serialize import graph_to_json
    from edgecc.transform import PassContext, run_pipeline

    graph = load_graph(args.model, args.input_shape)
    meta = tuple(k.strip() for k in args.show_meta.split(",") if k.strip())
    extra: list[Instrument] = []
    if args.print_before_all:
        extra.append(PrintIR(before=True, after=False, show_meta=meta))
    if args.print_after_all:
        extra.append(PrintIR(show_meta=meta))
    elif args.print_after:
        extra.append(PrintIR(passes=[s.strip() for s in args.print_after.split(",")],
                             show_meta=meta))
    elif args.print_after_change:
        extra.append(PrintIR(only_changed=True, show_meta=meta))
    dumper = DumpIR(args.dump_dir, show_meta=meta) if args.dump_dir else None
    if dumper:
        extra.append(dumper)
    timing = PassTiming() if args.pass_timing else None
    if timing:
        extra.append(timing)
    ctx = PassContext.from_env(extra)
    text = pipeline_text(args, 0)
    run_pipeline(graph, text, ctx)
    if args.format == "json":
        final = graph_to_json(graph)
    elif args.format == "dot":
        final = graph_to_dot(graph)
    else:
        final = print_graph(graph, show_meta=meta)
    if args.output:
        Path(args.output).write_text(final)
        print(f"wrote {args.output}", file=sys.stderr)
    elif not args.no_final:
        if extra and any(isinstance(i, PrintIR) for i in extra):
            print(f"*** Final IR ({args.format}) after pipeline {text!r} ***")
        sys.stdout.write(final)
    if timing:
        print(timing.report(), file=sys.stderr)
    if dumper:
        print(f"wrote {len(dumper.files)} files to {args.dump_dir}", file=sys.stderr)
    return 0
