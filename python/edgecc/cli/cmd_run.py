"""`edgecc run MODEL --interpreter`: run a model and save or print its outputs."""

from __future__ import annotations

import argparse
import time

import numpy as np

from edgecc.cli.common import (
    add_model_args,
    add_pipeline_args,
    describe_array,
    load_graph,
    load_inputs,
    pipeline_text,
)
from edgecc.errors import UnsupportedError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a model on inputs and print or save its outputs",
                       description="Run a model. Today only the reference interpreter executes "
                       "(--interpreter); compiled artifacts arrive with the x86 codegen.")
    add_model_args(p)
    p.add_argument("--interpreter", action="store_true",
                   help="run with the numpy reference interpreter")
    p.add_argument("--inputs", metavar="IN.npz",
                   help="inputs keyed by the model's input names (default: seeded random)")
    p.add_argument("--output", metavar="OUT.npz", help="save outputs keyed by output name")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    add_pipeline_args(p, default_level=2)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgecc.interpreter import run as interpret
    from edgecc.transform import run_pipeline

    if not args.interpreter:
        raise UnsupportedError("compiled execution is not implemented yet (it comes with the "
                               "x86 codegen); pass --interpreter to run the reference "
                               "interpreter")
    graph = load_graph(args.model, args.input_shape)
    run_pipeline(graph, pipeline_text(args, 2))
    inputs = load_inputs(args.inputs, graph, args.seed)
    if args.inputs is None:
        print(f"no --inputs given: using seeded random inputs (seed {args.seed})")
    t0 = time.perf_counter()
    outputs = interpret(graph, inputs)
    ms = (time.perf_counter() - t0) * 1e3
    print(f"ran {sum(1 for _ in graph.ops())} ops with the interpreter in {ms:.1f} ms")
    for name, value in outputs.items():
        print(f"  {name}: {describe_array(np.asarray(value))}")
    if args.output:
        np.savez(args.output, **{k: np.asarray(v) for k, v in outputs.items()})
        print(f"wrote {args.output}")
    return 0
