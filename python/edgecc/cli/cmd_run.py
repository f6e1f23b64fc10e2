"""`edgecc run MODEL --interpreter`: run a model and save or print its outputs."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from edgecc.cli.common import (
    add_model_args,
    add_pipeline_args,
    describe_array,
    load_graph,
    load_inputs,
    pipeline_text,
)
from edgecc.errors import EdgeccError, UnsupportedError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a compiled artifact, or a model with the interpreter",
                       description="Run a compiled artifact folder (from `edgecc compile`), or "
                       "an ONNX model with the reference interpreter (--interpreter).")
    add_model_args(p)
    p.add_argument("--interpreter", action="store_true",
                   help="run an ONNX model with the numpy reference interpreter")
    p.add_argument("--check", action="store_true",
                   help="artifact only: also run the reference interpreter on the compiled "
                   "graph and report the largest relative difference")
    p.add_argument("--inputs", metavar="IN.npz",
                   help="inputs keyed by the model's input names (default: seeded random)")
    p.add_argument("--output", metavar="OUT.npz", help="save outputs keyed by output name")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    add_pipeline_args(p, default_level=2)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgecc.interpreter import run as interpret
    from edgecc.transform import run_pipeline

    if Path(args.model).is_dir():
        return _run_artifact(args)
    if not args.interpreter:
        raise UnsupportedError(f"{args.model} is a model, not a compiled artifact: compile it "
                               f"(edgecc compile {args.model} -o OUT) and run OUT, or pass "
                               "--interpreter to run the reference interpreter")
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


def _run_artifact(args: argparse.Namespace) -> int:
    from edgecc.compiler import load_reference
    from edgecc.interpreter import run as interpret
    from edgecc.runtime import load
    from edgecc.testing.compare import rel_error

    if args.interpreter or args.input_shape or args.pipeline or args.opt_level is not None:
        raise UnsupportedError("--interpreter, --input-shape, --pipeline and -O apply to models; "
                               f"{args.model} is a compiled artifact (use --check to compare "
                               "with the interpreter)")
    model = load(args.model)
    if args.inputs is None:
        print(f"no --inputs given: using seeded random inputs (seed {args.seed})")
    inputs = load_inputs(args.inputs, model.inputs, args.seed)
    t0 = time.perf_counter()
    outputs = model(inputs)
    ms = (time.perf_counter() - t0) * 1e3
    print(f"ran {args.model} ({len(model.metadata['kernels'])} kernels, "
          f"{model.metadata['target']['name']}) in {ms:.1f} ms (first call)")
    for name, value in outputs.items():
        print(f"  {name}: {describe_array(np.asarray(value))}")
    if args.check:
        ref = interpret(load_reference(args.model), inputs)
        worst = 0.0
        for name, value in outputs.items():
            rel = rel_error(ref[name], value)
            worst = max(worst, rel)
            print(f"  check {name}: max|diff|/max|ref| = {rel:.2e}")
        if worst > 1e-4:
            raise EdgeccError(f"compiled outputs differ from the interpreter by {worst:.2e} "
                              "(> 1e-4)")
        print("  OK: matches the reference interpreter")
    if args.output:
        np.savez(args.output, **{k: np.asarray(v) for k, v in outputs.items()})
        print(f"wrote {args.output}")
    return 0

