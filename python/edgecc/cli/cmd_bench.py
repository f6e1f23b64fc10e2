"""`edgecc bench OUT`: latency, sizes, planned memory and MACs of a compiled artifact."""

from __future__ import annotations

import argparse
import json
import os
import statistics


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure a compiled artifact (latency, sizes, MACs)")
    p.add_argument("artifact", metavar="OUT", help="an artifact folder from `edgecc compile`")
    p.add_argument("--repeat", type=int, default=20, help="timed runs (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    p.add_argument("--threads", type=int, default=None,
                   help="TVM threads (default: TVM_NUM_THREADS, else the target's cores)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--profile", action="store_true",
                   help="also time every kernel on its own: time, share, GFLOP/s")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edgecc.cli.common import random_inputs
    from edgecc.compiler import read_metadata
    from edgecc.errors import InputError

    if args.repeat < 1 or args.warmup < 0:
        raise InputError("--repeat must be >= 1 and --warmup >= 0")
    if args.threads is not None:
        if args.threads < 1:
            raise InputError("--threads must be >= 1")
        # TVM reads this once, when its thread pool starts: set it before loading anything
        os.environ["TVM_NUM_THREADS"] = str(args.threads)
    from edgecc import tvm_api
    from edgecc.runtime import load

    meta = read_metadata(args.artifact)
    model = load(args.artifact)
    inputs = random_inputs(model.inputs, 0)
    for _ in range(args.warmup):
        model(inputs)
    times = [t * 1e3 for t in model.time(inputs, number=1, repeat=args.repeat)]
    lib_bytes = os.path.getsize(os.path.join(args.artifact, meta["library"]))
    result = {
        "latency_ms": {"median": statistics.median(times), "min": min(times), "max": max(times)},
        "artifact_bytes": lib_bytes, "weights_bytes": meta["weights_bytes"],
        "peak_activation_bytes": meta.get("peak_activation_bytes"), "macs": meta["macs"],
        "threads": tvm_api.num_threads(), "target": meta["target"]["name"],
        "mcpu": meta["target"]["mcpu"], "kernels": len(meta["kernels"]),
        "repeat": args.repeat, "warmup": args.warmup,
    }
    if args.profile:
        result["kernels_profile"] = model.profile()
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    lat = result["latency_ms"]
    gmacs = meta["macs"] / (lat["median"] * 1e-3) / 1e9 if lat["median"] > 0 else 0.0
    print(f"{args.artifact}: {meta['source']} on {result['target']} ({result['mcpu']}), "
          f"{result['threads']} threads")
    print(f"  latency: median {lat['median']:.3f} ms, min {lat['min']:.3f} ms, "
          f"max {lat['max']:.3f} ms over {args.repeat} runs ({gmacs:.1f} GMAC/s)")
    peak = result["peak_activation_bytes"]
    print(f"  artifact {lib_bytes:,} B, weights {meta['weights_bytes']:,} B, MACs "
          f"{meta['macs']:,}, planned peak activations "
          + (f"{peak:,} B" if peak is not None else "not planned"))
    if args.profile:
        _print_profile(result["kernels_profile"])
    return 0


def _print_profile(rows: list[dict]) -> None:
    total = sum(r["ms"] for r in rows) or 1e-12
    print(f"\n  {'ms':>8} {'share':>6} {'GFLOP/s':>8}  kernel (template): ops")
    for r in sorted(rows, key=lambda r: -r["ms"]):
        gflops = 2 * r["macs"] / (r["ms"] * 1e-3) / 1e9 if r["macs"] else 0.0
        print(f"  {r['ms']:8.3f} {r['ms'] / total:6.1%} {gflops:8.1f}  {r['kernel']} "
              f"({r['template']}): {'+'.join(r['ops'])}")
    print(f"  {total:8.3f} 100.0%           sum of kernels run alone")
