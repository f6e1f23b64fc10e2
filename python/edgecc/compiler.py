"""`compile()`: a model in, an artifact folder out (the driver behind `edgecc compile`).

    model.onnx -> import -> optimization pipeline -> codegen passes (split-to-slices, fuse-ops)
      -> kernels (partition) -> each lowered with its template and config -> one Relax module
      -> tvm.compile -> OUT/model.so + OUT/edgecc.json (+ OUT/reference/ for `run --check`)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecc import __version__
from edgecc.errors import EdgeccError
from edgecc.ir.graph import Graph
from edgecc.ir.types import type_str

ARTIFACT_VERSION = 1
LIBRARY = "model.so"
METADATA = "edgecc.json"

Progress = Callable[[str], None]


@dataclass
class CompileResult:
    out_dir: Path
    metadata: dict[str, Any]
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)


def _stage(stages: dict[str, float], name: str, t0: float) -> float:
    now = time.perf_counter()
    stages[name] = round(now - t0, 3)
    return now


def compile_model(model: str | os.PathLike | Graph, out_dir: str | os.PathLike, *,
                  target: str = "x86", input_shapes: Mapping[str, Sequence[int]] | None = None,
                  pipeline: str | None = None, opt_level: int = 2, reference: bool = True,
                  progress: Progress | None = None) -> CompileResult:
    """Compile `model` (an ONNX path or a Graph) for `target` into `out_dir`."""
    from edgecc import config
    from edgecc.codegen.build import build
    from edgecc.codegen.kernel import partition
    from edgecc.codegen.lower import lower_kernel
    from edgecc.targets import get_target
    from edgecc.transform import PassContext, run_pipeline
    from edgecc.transform.levels import LEVELS, level_pipeline

    say = progress or (lambda _msg: None)
    stages: dict[str, float] = {}
    start = t0 = time.perf_counter()
    tgt = get_target(target)
    config.default_tvm_threads(tgt.num_cores)
    t0 = _stage(stages, "target", t0)  # the first use of TVM also imports it (a few seconds)
    if isinstance(model, Graph):
        graph, source = model, "<graph>"
    else:
        from edgecc.frontend.onnx import from_onnx

        graph, source = from_onnx(model, input_shapes), str(model)
    t0 = _stage(stages, "import", t0)
    if pipeline is None:
        level_pipeline(opt_level)  # raises for an unknown level
        pipeline = LEVELS[opt_level]
    opt = pipeline
    full = ",".join(p for p in (opt, codegen_pipeline(tgt)) if p)
    ctx = PassContext.from_env()
    run_pipeline(graph, full, ctx)
    t0 = _stage(stages, "passes", t0)
    kernels = partition(graph)
    _check_codegen_coverage(graph)
    say(f"{len(kernels)} kernels to generate")
    lowered = []
    for i, kernel in enumerate(kernels):
        lowered.append(lower_kernel(kernel, tgt))
        say(f"[{i + 1}/{len(kernels)}] {kernel.name}: {kernel.describe()} "
            f"({lowered[-1].template})")
    t0 = _stage(stages, "lower", t0)
    executable = build(graph, lowered, tgt.tvm)
    t0 = _stage(stages, "build", t0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from edgecc import tvm_api

    tvm_api.export_library(executable, out / LIBRARY)
    meta = _metadata(graph, source, tgt, full, lowered, ctx.stats)
    if reference:
        _write_reference(graph, out / "reference")
    _stage(stages, "export", t0)
    seconds = time.perf_counter() - start
    meta["compile_seconds"] = round(seconds, 3)
    meta["compile_stages"] = stages
    (out / METADATA).write_text(json.dumps(meta, indent=1))
    return CompileResult(out, meta, seconds, stages)


def codegen_pipeline(tgt: Any) -> str:
    """The passes that prepare an optimized graph for a target's code generator.

    x86 packs constant conv and dense weights into the blocked layouts its templates vectorize
    (blocks of the target's float32 vector lanes; half blocks for channel counts like 24).
    """
    passes = ["split-to-slices"]
    if tgt.family == "x86":
        lanes = tgt.vector_lanes_f32
        passes += [f"pack-conv-weights{{oc-block={lanes} min-oc-block={lanes // 2}}}",
                   f"pack-dense-weights{{n-block={lanes}}}"]
    return ",".join([*passes, "fuse-ops", "plan-memory"])


def _check_codegen_coverage(graph: Graph) -> None:
    """One error listing every op of the graph that has no compute rule yet."""
    from edgecc.codegen.compute import has_compute
    from edgecc.errors import UnsupportedError

    missing: dict[str, list[str]] = {}
    for node in graph.ops():
        if not has_compute(node.op):
            missing.setdefault(node.op, []).append(node.name)
    if missing:
        lines = [f"  {op} at %{', %'.join(names[:5])}" + (" ..." if len(names) > 5 else "")
                 for op, names in sorted(missing.items())]
        raise UnsupportedError("code generation is not implemented for these ops (the reference "
                               "interpreter runs them: edgecc run MODEL --interpreter):\n"
                               + "\n".join(lines))


def _metadata(graph: Graph, source: str, tgt: Any, pipeline: str, lowered: list[Any],
              stats: Mapping[str, int]) -> dict[str, Any]:
    from edgecc import tvm_api
    from edgecc.stats import graph_stats, node_macs

    s = graph_stats(graph)
    return {
        "format": "edgecc-artifact", "version": ARTIFACT_VERSION,
        "edgecc_version": __version__, **tvm_api.versions(),
        "source": source, "target": tgt.describe(), "pipeline": pipeline,
        "library": LIBRARY,
        "inputs": [{"name": n.name, "shape": list(n.shape), "dtype": n.dtype}
                   for n in graph.inputs],
        "outputs": [{"name": name, "shape": list(n.shape), "dtype": n.dtype}
                    for n, name in zip(graph.outputs, graph.output_names)],
        "macs": s.macs, "weights_bytes": s.param_bytes,
        "peak_activation_bytes": stats.get("plan-memory.peak_bytes"),
        "kernels": [{"name": lk.kernel.name, "ops": [n.op for n in lk.kernel.nodes],
                     "params": [type_str(p.type) for p in lk.kernel.params],
                     "output": type_str(lk.kernel.output.type),
                     "workload_key": lk.kernel.workload_key, "template": lk.template,
                     "config": lk.config.to_json(),
                     "macs": sum(node_macs(n) for n in lk.kernel.nodes)}
                    for lk in lowered],
    }


def _write_reference(graph: Graph, folder: Path) -> None:
    """The compiled graph (text form) and its constants, for `edgecc run OUT --check`."""
    from edgecc.ir.printer import print_graph

    folder.mkdir(parents=True, exist_ok=True)
    clean = graph.copy()
    for n in clean.nodes:
        n.meta.clear()
    (folder / "graph.ir").write_text(print_graph(clean))
    np.savez(folder / "constants.npz", **{n.name: n.value for n in clean.nodes
                                          if n.is_const and n.value is not None})


def read_metadata(out_dir: str | os.PathLike) -> dict[str, Any]:
    path = Path(out_dir) / METADATA
    if not path.is_file():
        raise EdgeccError(f"{out_dir} is not an edgecc artifact: {METADATA} is missing "
                          "(make one with `edgecc compile MODEL -o DIR`)")
    meta = json.loads(path.read_text())
    if meta.get("format") != "edgecc-artifact":
        raise EdgeccError(f"{path} is not an edgecc artifact description")
    if meta.get("version") != ARTIFACT_VERSION:
        raise EdgeccError(f"{path}: artifact version {meta.get('version')} is not supported by "
                          f"edgecc {__version__} (it reads version {ARTIFACT_VERSION})")
    return meta


def load_reference(out_dir: str | os.PathLike) -> Graph:
    """The graph an artifact was compiled from, with its constants (for checking)."""
    from edgecc.ir.parser import parse_graph

    folder = Path(out_dir) / "reference"
    if not (folder / "graph.ir").is_file():
        raise EdgeccError(f"{out_dir} has no reference graph (it was compiled with "
                          "--no-reference)")
    with np.load(folder / "constants.npz") as consts:
        return parse_graph((folder / "graph.ir").read_text(), params=dict(consts))
