"""Kernel benchmark: edgecc's x86 dense / matmul templates vs the generic template vs onnxruntime.

    TVM_NUM_THREADS=2 .venv/bin/python benchmarks/bench_gemm.py [--rounds 5] [--generic]
        [--only SUBSTRING ...]

Each workload is one kernel (a dense with its bias, its weight packed by
`pack-dense-weights{n-block=<lanes>}` when N allows; or a matmul of two run-time operands),
lowered with its selected template and default config. It is timed with TVM's time_evaluator,
interleaved round by round with onnxruntime running the same one-node model (Gemm with transB=1
and a bias, or MatMul) with as many intra-op threads as TVM_NUM_THREADS; each figure is the
minimum over the rounds (the machine may be shared). GFLOP/s = 2 * MACs / time.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from typing import Any

import numpy as np

WORKLOADS: list[tuple[str, str, Any]] = [
    ("dense 1x512->1000", "gemm", (1, 512, 1000)),
    ("dense 128x64->192", "gemm", (128, 64, 192)),
    ("dense 128x64->256", "gemm", (128, 64, 256)),
    ("dense 128x256->64", "gemm", (128, 256, 64)),
    ("matmul [4,128,16]x[4,16,128]", "matmul", ((4, 128, 16), (4, 16, 128))),
    ("matmul [4,128,128]x[4,128,16]", "matmul", ((4, 128, 128), (4, 128, 16))),
    ("dense 128x768->768", "gemm", (128, 768, 768)),
]


def _graph(kind: str, shape: Any, rng: np.random.Generator, lanes: int) -> Any:
    from edgecc.ir.graph import Graph
    from edgecc.ir.types import TensorType
    from edgecc.transform import PassContext, run_pipeline

    g = Graph()
    if kind == "gemm":
        m, k, n = shape
        x = g.add_input("x", TensorType((m, k)))
        w = g.add_const((rng.standard_normal((n, k)) * 0.1).astype(np.float32), "w")
        b = g.add_const(rng.standard_normal(n).astype(np.float32), "b")
        y = g.create_node("nn.dense", [x, w, b], name="y")
    else:
        a, b2 = (g.add_input(name, TensorType(s)) for name, s in zip("ab", shape))
        y = g.create_node("nn.matmul", [a, b2], name="y")
    g.set_outputs([y])
    run_pipeline(g, f"pack-dense-weights{{n-block={lanes}}},fuse-ops", PassContext())
    return g


def _tvm_timer(kernel: Any, target: Any, rng: np.random.Generator,
               template: Any = None, config: Any = None) -> tuple[Any, str]:
    import tvm

    from edgecc import tvm_api
    from edgecc.codegen.lower import lower_kernel

    lowered = lower_kernel(kernel, target, config, template)
    lib = tvm_api.compile_primfunc(lowered.func, tvm_api.make_target(target.tvm), kernel.name)
    args = [tvm_api.to_device(np.asarray(p.value) if p.is_const
                              else rng.standard_normal(p.shape).astype(np.float32))
            for p in kernel.params]
    out = tvm_api.empty(kernel.output.shape, "float32")
    probe = lib.mod.time_evaluator(kernel.name, tvm.cpu(0), number=1, repeat=1)
    number = max(1, min(200, int(2e-3 / max(probe(*args, out).mean, 1e-7))))
    timer = lib.mod.time_evaluator(kernel.name, tvm.cpu(0), number=number, repeat=10)
    return (lambda: min(timer(*args, out).results)), lowered.template


def _ort_timer(kind: str, shape: Any, rng: np.random.Generator, threads: int) -> Any:
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    f32 = TensorProto.FLOAT
    if kind == "gemm":
        m, k, n = shape
        inits = [numpy_helper.from_array(rng.standard_normal((n, k)).astype(np.float32), "w"),
                 numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), "b")]
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)
        inputs = {"x": (m, k)}
    else:
        inits, node = [], helper.make_node("MatMul", ["a", "b"], ["y"])
        inputs = dict(zip("ab", shape))
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(n, f32, list(s)) for n, s in inputs.items()],
        [helper.make_tensor_value_info("y", f32, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    feeds = {n: rng.standard_normal(s).astype(np.float32) for n, s in inputs.items()}
    t0 = time.perf_counter()
    for _ in range(5):
        sess.run(None, feeds)
    number = max(1, min(200, int(2e-3 / max((time.perf_counter() - t0) / 5, 1e-7))))

    def measure() -> float:
        best = math.inf
        for _ in range(10):
            t = time.perf_counter()
            for _ in range(number):
                sess.run(None, feeds)
            best = min(best, (time.perf_counter() - t) / number)
        return best

    return measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generic", action="store_true", help="also time generic.default")
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args()

    from edgecc.codegen.kernel import partition
    from edgecc.schedules.template import get_template
    from edgecc.targets import get_target

    target = get_target("x86")
    threads = int(os.environ.get("TVM_NUM_THREADS", "0") or target.num_cores)
    rng = np.random.default_rng(0)
    print(f"TVM_NUM_THREADS={threads}, {target.mcpu}, {target.vector_lanes_f32} lanes; "
          f"min over {args.rounds} rounds; GFLOP/s = 2 * MACs / time")
    print("| workload | template | us | GFLOP/s | generic us | GFLOP/s | onnxruntime us "
          "| GFLOP/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kind, shape in WORKLOADS:
        if args.only and not any(s in name for s in args.only):
            continue
        macs = math.prod(shape) if kind == "gemm" else math.prod(shape[0]) * shape[1][-1]
        (kernel,) = partition(_graph(kind, shape, rng, target.vector_lanes_f32))
        ours, template = _tvm_timer(kernel, target, rng)
        theirs = _ort_timer(kind, shape, rng, threads)
        t_ours = t_ort = math.inf
        for _ in range(args.rounds):
            t_ours, t_ort = min(t_ours, ours()), min(t_ort, theirs())
        gen = "| - | -"
        if args.generic:
            generic = get_template("generic.default")
            timer, _ = _tvm_timer(kernel, target, rng, generic,
                                  generic.default_config(kernel, target))
            t_gen = timer()
            gen = f"| {t_gen * 1e6:.1f} | {2 * macs / t_gen / 1e9:.1f}"
        print(f"| {name} | {template} | {t_ours * 1e6:.1f} | {2 * macs / t_ours / 1e9:.1f} "
              f"{gen} | {t_ort * 1e6:.1f} | {2 * macs / t_ort / 1e9:.1f} |", flush=True)


if __name__ == "__main__":
    main()
