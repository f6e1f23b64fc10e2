"""Single-convolution benchmark: x86.conv2d_nchwc vs the generic template vs onnxruntime.

    TVM_NUM_THREADS=2 .venv/bin/python benchmarks/bench_conv.py [--only name,..] [--no-generic]
        [--no-ort] [--config '{"tile_ow": [7, 8], ...}'] [--number 10] [--repeat 10]

Each workload is one nn.conv2d with a bias (ResNet-18 and MobileNetV2 layers at 224x224),
lowered as one kernel: packed by `pack-conv-weights` for the x86 template, plain OIHW for the
generic one. onnxruntime runs the same single Conv with as many intra-op threads as TVM.
GFLOP/s = 2 * MACs / (min over `repeat` runs of the mean of `number` calls); the x86 and
onnxruntime runs alternate round by round, as the machine may be shared. The generic template
(slow) gets 3 runs of 10 calls.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

# name: (N, C, H, W, OC, K, stride, pad, groups)
WORKLOADS: dict[str, tuple[int, ...]] = {
    "r18_stem_7x7s2": (1, 3, 224, 224, 64, 7, 2, 3, 1),
    "r18_3x3_64_56": (1, 64, 56, 56, 64, 3, 1, 1, 1),
    "r18_3x3s2_64_128": (1, 64, 56, 56, 128, 3, 2, 1, 1),
    "r18_3x3_128_28": (1, 128, 28, 28, 128, 3, 1, 1, 1),
    "r18_3x3_256_14": (1, 256, 14, 14, 256, 3, 1, 1, 1),
    "r18_3x3_512_7": (1, 512, 7, 7, 512, 3, 1, 1, 1),
    "r18_1x1s2_64_128": (1, 64, 56, 56, 128, 1, 2, 0, 1),
    "r18_1x1s2_256_512": (1, 256, 14, 14, 512, 1, 2, 0, 1),
    "mv2_1x1_16_96_112": (1, 16, 112, 112, 96, 1, 1, 0, 1),
    "mv2_1x1_24_144_56": (1, 24, 56, 56, 144, 1, 1, 0, 1),
    "mv2_dw3x3_144_56": (1, 144, 56, 56, 144, 3, 1, 1, 144),
    "mv2_dw3x3s2_96_112": (1, 96, 112, 112, 96, 3, 2, 1, 96),
    "mv2_1x1_144_24_56": (1, 144, 56, 56, 24, 1, 1, 0, 1),
}


def conv_graph(wl: tuple[int, ...], seed: int = 0) -> tuple[Any, dict[str, np.ndarray]]:
    """One conv2d (+ bias) graph with random weights, and its input."""
    from edgecc.ir.parser import parse_graph
    from edgecc.ops.nn_conv import window_out_size

    n, c, h, w, oc, k, s, p, g = wl
    oh, ow = window_out_size(h, k, s, p, p), window_out_size(w, k, s, p, p)
    rng = np.random.default_rng(seed)
    text = f"""
graph @main(%x: f32[{n},{c},{h},{w}]) -> f32[{n},{oc},{oh},{ow}] {{
  %w = const f32[{oc},{c // g},{k},{k}]
  %b = const f32[{oc}]
  %y = nn.conv2d(%x, %w, %b) {{strides=({s},{s}), pads=({p},{p},{p},{p}), groups={g}}}
      : f32[{n},{oc},{oh},{ow}]
  return %y
}}"""
    params = {"w": rng.standard_normal((oc, c // g, k, k)).astype("float32") * 0.1,
              "b": rng.standard_normal(oc).astype("float32")}
    return parse_graph(text, params=params), {
        "x": rng.standard_normal((n, c, h, w)).astype("float32")}


def macs(wl: tuple[int, ...]) -> int:
    from edgecc.ops.nn_conv import window_out_size

    n, c, h, w, oc, k, s, p, g = wl
    return n * oc * window_out_size(h, k, s, p, p) * window_out_size(w, k, s, p, p) \
        * (c // g) * k * k


def build_kernel(graph: Any, x: np.ndarray, template: Any,
                 config: Any) -> tuple[Callable[[int], float], Any, float]:
    """(timer: number -> seconds per call, lowered kernel, max abs error vs the interpreter)."""
    import tvm

    from edgecc import tvm_api
    from edgecc.codegen.kernel import partition
    from edgecc.codegen.lower import lower_kernel
    from edgecc.interpreter import run
    from edgecc.targets import get_target

    target = get_target("x86")
    (kernel,) = partition(graph)
    lowered = lower_kernel(kernel, target, config, template)
    lib = tvm_api.compile_primfunc(lowered.func, tvm_api.make_target(target.tvm), kernel.name)
    args = [tvm_api.to_device(x if p.is_input else p.value) for p in kernel.params]
    out = tvm_api.empty(kernel.output.shape, "float32")
    lib[kernel.name](*args, out)
    err = float(np.abs(out.numpy() - run(graph, {"x": x})[graph.output_names[0]]).max())

    def timer(number: int) -> float:
        f = lib.mod.time_evaluator(kernel.name, tvm.cpu(0), number=number, repeat=1)
        return float(f(*args, out).results[0])

    return timer, lowered, err


def build_ort(wl: tuple[int, ...], threads: int) -> Callable[[int], float]:
    """A timer (number -> seconds per call) of the same single Conv in onnxruntime."""
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    n, c, h, w, oc, k, s, p, g = wl
    rng = np.random.default_rng(0)
    wt = rng.standard_normal((oc, c // g, k, k)).astype("float32")
    b = rng.standard_normal(oc).astype("float32")
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=[s, s], pads=[p] * 4,
                            group=g, kernel_shape=[k, k])
    graph = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", 1, [n, c, h, w])],
        [helper.make_tensor_value_info("y", 1, None)],
        [numpy_helper.from_array(wt, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    feeds = {"x": rng.standard_normal((n, c, h, w)).astype("float32")}
    for _ in range(3):
        sess.run(None, feeds)

    def timer(number: int) -> float:
        t0 = time.perf_counter()
        for _ in range(number):
            sess.run(None, feeds)
        return (time.perf_counter() - t0) / number

    return timer


def best_of(timers: dict[str, Callable[[int], float]], number: int,
            rounds: int) -> dict[str, float]:
    """Min over `rounds` runs of `number` calls each, the timers interleaved round by round
    (the machine is shared: interference hits both sides alike)."""
    best = {name: float("inf") for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            # a pause first: both thread pools spin-wait after a run, and a spinning pool
            # would steal the other's second core
            time.sleep(0.05)
            best[name] = min(best[name], timer(number))
    return best


def main() -> None:
    from edgecc import tvm_api
    from edgecc.schedules.space import Config
    from edgecc.schedules.template import get_template
    from edgecc.targets import get_target
    from edgecc.transform import run_pipeline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="")
    ap.add_argument("--no-generic", action="store_true")
    ap.add_argument("--no-ort", action="store_true")
    ap.add_argument("--config", default="", help="JSON config for the x86 template")
    ap.add_argument("--number", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=10, help="interleaved rounds")
    args = ap.parse_args()
    threads = tvm_api.num_threads()
    # blocks of the vector width, half of it for channel counts like 24
    lanes = get_target("x86").vector_lanes_f32
    pack = f"pack-conv-weights{{oc-block={lanes} min-oc-block={lanes // 2}}}"
    names = [n for n in WORKLOADS if not args.only or n in args.only.split(",")]
    print(f"threads={threads}")
    print("| workload | MFLOP | x86 GFLOP/s | generic GFLOP/s | ort GFLOP/s | x86/ort | config |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        wl = WORKLOADS[name]
        flop = 2 * macs(wl)
        graph, feeds = conv_graph(wl)
        run_pipeline(graph, pack)
        config = Config(json.loads(args.config)) if args.config else None
        timer, lowered, err = build_kernel(graph, feeds["x"], None, config)
        assert err < 1e-3, f"{name}: wrong result, max abs error {err}"
        timers = {"x86": timer}
        if not args.no_ort:
            timers["ort"] = build_ort(wl, threads)
        best = best_of(timers, args.number, args.repeat)
        gen = "-"
        if not args.no_generic:
            plain, _ = conv_graph(wl)
            gen_timer, _, _ = build_kernel(plain, feeds["x"], get_template("generic.default"),
                                           None)
            gen = f"{flop / best_of({'g': gen_timer}, 10, 3)['g'] / 1e9:.1f}"
        ort_s, ratio = "-", "-"
        if "ort" in best:
            ort_s, ratio = f"{flop / best['ort'] / 1e9:.1f}", f"{best['ort'] / best['x86']:.0%}"
        cfg = lowered.config.dumps() if lowered.template == "x86.conv2d_nchwc" else "generic"
        print(f"| {name} | {flop / 1e6:.0f} | {flop / best['x86'] / 1e9:.1f} | {gen} | {ort_s} | "
              f"{ratio} | `{cfg}` |", flush=True)


if __name__ == "__main__":
    main()
