"""`edgecc compile MODEL --target x86 -o OUT/`: build a deployable artifact."""

from __future__ import annotations

import argparse
import sys

from edgecc.cli.common import add_pipeline_args, parse_input_shape


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="compile a model into a shared library + edgecc.json",
                       description="Import, optimize, fuse, generate every kernel with edgecc's "
                       "schedules and write OUT/model.so, OUT/edgecc.json and OUT/reference/.")
    p.add_argument("model", help="an ONNX model")
    p.add_argument("--input-shape", action="append", default=[], type=parse_input_shape,
                   metavar="NAME=D0,D1,...", help="static shape of an input (repeatable)")
    p.add_argument("--target", default="x86", help="what to compile for (default x86: this "
                   "machine)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="artifact folder")
    p.add_argument("--no-reference", action="store_true",
                   help="do not keep the graph and weights used by `edgecc run OUT --check`")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-kernel progress")
    add_pipeline_args(p, default_level=2)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgecc.compiler import compile_model

    def progress(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    result = compile_model(args.model, args.output, target=args.target,
                           input_shapes=dict(args.input_shape), pipeline=args.pipeline,
                           opt_level=2 if args.opt_level is None else args.opt_level,
                           reference=not args.no_reference, progress=progress)
    meta = result.metadata
    templates: dict[str, int] = {}
    for k in meta["kernels"]:
        templates[k["template"]] = templates.get(k["template"], 0) + 1
    print(f"compiled {args.model} for {meta['target']['name']} ({meta['target']['mcpu']}, "
          f"{meta['target']['vector_bits']}-bit vectors) in {result.seconds:.1f} s")
    print(f"  {len(meta['kernels'])} kernels: " + ", ".join(f"{n} x {t}" for t, n in
                                                           sorted(templates.items())))
    print("  stages: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.stages.items()))
    print(f"  wrote {result.out_dir}/{meta['library']} and {result.out_dir}/edgecc.json")
    return 0
