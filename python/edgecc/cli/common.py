"""Helpers the CLI commands share: loading a model or graph, input shapes, pipelines."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from edgecc.errors import InputError, ModelLoadError
from edgecc.ir.graph import Graph


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """`NAME=1,3,224,224` -> ("NAME", (1, 3, 224, 224))."""
    name, sep, dims = text.rpartition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=d0,d1,... e.g. x=1,3,224,224")
    try:
        shape = tuple(int(d) for d in dims.split(",") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: dimensions must be integers") from None
    if any(d <= 0 for d in shape):
        raise argparse.ArgumentTypeError(f"{text!r}: dimensions must be positive")
    return name, shape


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="an ONNX model (.onnx) or an edgecc graph (.json from dump "
                   "--format json or a crash reproducer)")
    p.add_argument("--input-shape", action="append", default=[], type=parse_input_shape,
                   metavar="NAME=D0,D1,...", help="static shape of an input (repeatable)")


def add_pipeline_args(p: argparse.ArgumentParser, default_level: int) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--pipeline", metavar="STR",
                   help='pass pipeline, e.g. "simplify,fold-constants,fold-batchnorm,dce"')
    g.add_argument("-O", dest="opt_level", type=int, default=None, metavar="N",
                   help=f"optimization level 0..3 (default {default_level})")


def pipeline_text(args: argparse.Namespace, default_level: int) -> str:
    from edgecc.transform.levels import LEVELS, level_pipeline

    if args.pipeline is not None:
        return args.pipeline
    level = default_level if args.opt_level is None else args.opt_level
    level_pipeline(level)  # validates the level
    return LEVELS[level]


def load_graph(path: str, input_shapes: list[tuple[str, tuple[int, ...]]]) -> Graph:
    """Import an ONNX model, or read an edgecc graph in JSON form."""
    p = Path(path)
    if not p.exists():
        raise ModelLoadError(f"model file not found: {p}")
    if p.suffix == ".json":
        from edgecc.ir.serialize import graph_from_json

        if input_shapes:
            raise InputError("--input-shape applies to ONNX models; a graph's shapes are fixed")
        try:
            return graph_from_json(p.read_text())
        except (ValueError, KeyError) as exc:
            raise ModelLoadError(f"{p} is not a valid edgecc graph: {exc}") from exc
    from edgecc.frontend.onnx import from_onnx

    return from_onnx(p, dict(input_shapes))


def load_inputs(path: str | None, spec: Graph | Mapping[str, tuple[tuple[int, ...], str]],
                seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs from an .npz keyed by input name, or seeded random ones when no file is given."""
    if path is None:
        return random_inputs(spec, seed)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"inputs file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {p} as an .npz file: {exc}") from exc


def random_inputs(spec: Graph | Mapping[str, tuple[tuple[int, ...], str]], seed: int = 0,
                  int_ranges: Mapping[str, Sequence[int]] | None = None) -> dict[str, np.ndarray]:
    """Seeded inputs for a graph's inputs or a {name: (shape, dtype)} spec: N(0,1) floats,
    integers in [0, 10) (or `int_ranges[name]` = [low, high)), booleans at random."""
    if isinstance(spec, Graph):
        spec = {n.name: (n.shape, n.dtype) for n in spec.inputs}
    rng = np.random.default_rng(seed)
    out = {}
    for name, (shape, dtype) in spec.items():
        if dtype.startswith("float"):
            out[name] = rng.standard_normal(shape).astype(dtype)
        elif dtype == "bool":
            out[name] = rng.integers(0, 2, shape).astype(bool)
        else:
            low, high = (int_ranges or {}).get(name, (0, 10))
            out[name] = rng.integers(low, high, shape).astype(dtype)
    return out


def describe_array(a: np.ndarray) -> str:
    """One line: dtype, shape, range, mean, and the argmax of a vector of scores."""
    text = f"{a.dtype}{list(a.shape)}"
    if a.size == 0:
        return text + " (empty)"
    if a.dtype.kind in "fiub":
        af = a.astype(np.float64)
        text += f" min={af.min():.6g} max={af.max():.6g} mean={af.mean():.6g}"
        if a.ndim >= 1 and a.shape[-1] > 1 and a.dtype.kind == "f" and a.size == a.shape[-1]:
            text += f" argmax={int(np.argmax(a))}"
    return text

