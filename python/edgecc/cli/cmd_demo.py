"""`edgecc demo`: the bundled default model, end to end (import, passes, run, check)."""

from __future__ import annotations

import argparse
import time
from importlib import resources

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run edgecc on its bundled model (a digits CNN): interpreter, "
                       "onnxruntime check, then compiled for this machine")
    p.add_argument("--no-compile", action="store_true", help="stop after the interpreter check")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgecc.errors import EdgeccError
    from edgecc.frontend.onnx import from_onnx
    from edgecc.interpreter import run as interpret
    from edgecc.stats import graph_stats, human_bytes, human_count
    from edgecc.testing.compare import rel_error
    from edgecc.transform import PassContext, run_pipeline
    from edgecc.transform.instruments import PassTiming
    from edgecc.transform.levels import LEVELS

    data = resources.files("edgecc") / "data"
    model_path = str(data / "digits_cnn.onnx")
    with resources.as_file(data / "digits_samples.npz") as f, np.load(f) as samples:
        images, labels = samples["images"], samples["labels"]
    t0 = time.perf_counter()
    graph = from_onnx(model_path)
    t_import = time.perf_counter() - t0
    before = graph_stats(graph)
    print(f"model: bundled digits CNN (trained on sklearn digits), {model_path}")
    print(f"imported {sum(before.op_counts.values())} ops in {t_import * 1e3:.1f} ms; "
          f"{before.num_params:,} parameters ({human_bytes(before.param_bytes)}), "
          f"{human_count(before.macs)}MACs per image")
    timing = PassTiming()
    run_pipeline(graph, LEVELS[2], PassContext.from_env([timing]))
    print(f"\npipeline O2: {LEVELS[2]}")
    for name, sec, changed, n_ops in timing.rows:
        print(f"  {name:16s} {'changed' if changed else 'no change':10s} {n_ops:3d} ops  "
              f"{sec * 1e3:6.2f} ms")
    print("ops after the pipeline: " + ", ".join(
        f"{op} x{n}" for op, n in sorted(graph_stats(graph).op_counts.items())))
    input_name = graph.inputs[0].name
    t0 = time.perf_counter()
    preds, logits = [], []
    for img in images:
        out = next(iter(interpret(graph, {input_name: img[None]}).values()))
        logits.append(out[0])
        preds.append(int(np.argmax(out)))
    t_run = (time.perf_counter() - t0) / len(images)
    preds_a = np.array(preds)
    acc = float((preds_a == labels).mean())
    print(f"\ninterpreter: {len(images)} held-out digits, {t_run * 1e3:.2f} ms per image")
    print(f"  predicted: {' '.join(str(p) for p in preds_a[:20])} ...")
    print(f"  labels:    {' '.join(str(p) for p in labels[:20])} ...")
    print(f"  accuracy:  {acc:.1%} ({int((preds_a == labels).sum())}/{len(labels)})")
    try:
        import onnxruntime as ort
    except ImportError:
        print("\nonnxruntime is not installed: skipping the reference check "
              "(`bash scripts/demo.sh` installs it)")
        return 0
    sess = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    ref = np.stack([sess.run(None, {input_name: img[None]})[0][0] for img in images])
    ours = np.stack(logits)
    rel = rel_error(ref, ours)
    same = int((ref.argmax(1) == preds_a).sum())
    print(f"\nonnxruntime {ort.__version__}: max|diff|/max|ref| = {rel:.2e}; "
          f"same prediction on {same}/{len(labels)}")
    if rel > 1e-4:
        raise EdgeccError(f"the interpreter disagrees with onnxruntime (relative error {rel:.2e})")
    print("OK: edgecc's interpreter agrees with onnxruntime")
    if not args.no_compile:
        _compiled(model_path, images, np.stack(logits), input_name)
    return 0


def _compiled(model_path: str, images: np.ndarray, reference: np.ndarray, input_name: str) -> None:
    """Compile the model for this machine, run the artifact, compare with the interpreter."""
    import statistics
    import tempfile

    from edgecc.compiler import compile_model
    from edgecc.errors import EdgeccError
    from edgecc.runtime import load
    from edgecc.testing.compare import rel_error

    with tempfile.TemporaryDirectory(prefix="edgecc-demo-") as out:
        result = compile_model(model_path, out, reference=False)
        meta = result.metadata
        print(f"\ncompiled for {meta['target']['name']} ({meta['target']['mcpu']}, "
              f"{meta['target']['vector_bits']}-bit vectors) in {result.seconds:.1f} s: "
              f"{len(meta['kernels'])} kernels")
        for k in meta["kernels"]:
            print(f"  {k['name']:24s} {'+'.join(k['ops']):28s} {k['template']}")
        model = load(out)
        outs = np.stack([model({input_name: img[None]})["logits"][0] for img in images])
        times = model.time({input_name: images[:1]}, number=10, repeat=5)
        rel = rel_error(reference, outs)
        print(f"compiled: {statistics.median(times) * 1e3:.3f} ms per image; max|diff|/max|ref| "
              f"vs the interpreter = {rel:.2e}; same prediction on "
              f"{int((outs.argmax(1) == reference.argmax(1)).sum())}/{len(images)}")
        if rel > 1e-4:
            raise EdgeccError(f"the compiled model disagrees with the interpreter ({rel:.2e})")
        print("OK: the compiled model agrees with the interpreter")
