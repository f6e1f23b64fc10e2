"""Numerical comparison helpers: relative errors, onnxruntime runs, seeded feeds and weights."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgecc.ir.graph import Graph

ModelLike = str | os.PathLike | onnx.ModelProto
IntRange = tuple[int, int]


def rel_error(ref: Any, out: Any) -> float:
    """max|out - ref| / max|ref| (0 when both are all zero; inf on a shape or NaN mismatch).

    NaNs in the same places count as equal; infinities must match exactly.
    """
    ref = np.asarray(ref)
    out = np.asarray(out)
    if ref.shape != out.shape:
        return float("inf")
    if ref.size == 0:
        return 0.0
    r = ref.astype(np.float64)
    o = out.astype(np.float64)
    nan_r, nan_o = np.isnan(r), np.isnan(o)
    if (nan_r != nan_o).any():
        return float("inf")
    inf_r, inf_o = np.isinf(r), np.isinf(o)
    if (inf_r != inf_o).any() or (r[inf_r] != o[inf_o]).any():
        return float("inf")
    finite = ~(nan_r | inf_r)
    if not finite.any():
        return 0.0
    diff = float(np.max(np.abs(r[finite] - o[finite])))
    scale = float(np.max(np.abs(r[finite])))
    if scale == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return diff / scale


def rel_errors(refs: Mapping[str, Any] | Sequence[Any],
               outs: Mapping[str, Any] | Sequence[Any]) -> dict[str, float] | list[float]:
    """`rel_error` per output: by name for dicts, by position for sequences."""
    if isinstance(refs, Mapping):
        assert isinstance(outs, Mapping)
        missing = set(refs) ^ set(outs)
        if missing:
            raise KeyError(f"outputs differ in names: {sorted(missing)}")
        return {k: rel_error(refs[k], outs[k]) for k in refs}
    assert not isinstance(outs, Mapping) and len(refs) == len(outs)
    return [rel_error(r, o) for r, o in zip(refs, outs)]


def run_onnxruntime(model_or_path: ModelLike, feeds: Mapping[str, np.ndarray],
                    threads: int = 1) -> dict[str, np.ndarray]:
    """Run a model with onnxruntime's CPU provider; returns outputs by name, in output order."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    if isinstance(model_or_path, onnx.ModelProto):
        source: Any = model_or_path.SerializeToString()
    else:
        source = os.fspath(model_or_path)
    sess = ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    values = sess.run(names, dict(feeds))
    return dict(zip(names, values))


def _onnx_inputs(model: onnx.ModelProto,
                 input_shapes: Mapping[str, Sequence[int]] | None) -> list[tuple[str, tuple,
                                                                                  np.dtype]]:
    init = {t.name for t in model.graph.initializer}
    result = []
    for vi in model.graph.input:
        if vi.name in init:
            continue
        tt = vi.type.tensor_type
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(tt.elem_type))
        if input_shapes and vi.name in input_shapes:
            shape = tuple(int(d) for d in input_shapes[vi.name])
        else:
            dims = [d.dim_value if d.HasField("dim_value") else 0 for d in tt.shape.dim]
            if any(d <= 0 for d in dims):
                raise ValueError(f"input {vi.name!r} has a dynamic shape; pass input_shapes")
            shape = tuple(dims)
        result.append((vi.name, shape, dtype))
    return result


def random_feeds(model: Graph | ModelLike, seed: int = 0,
                 int_ranges: Mapping[str, IntRange] | IntRange | None = None,
                 input_shapes: Mapping[str, Sequence[int]] | None = None
                 ) -> dict[str, np.ndarray]:
    """Seeded random inputs for a Graph or an ONNX model.

    Float inputs are ~N(0, 1); bool inputs are fair coin flips; integer inputs are uniform in
    [low, high) given by `int_ranges` (one range for all, or one per input name): an integer
    input without a range is an error, since only the caller knows what is valid (token ids,
    indices ...).
    """
    if isinstance(model, Graph):
        specs = [(n.name, n.shape, np.dtype(n.dtype)) for n in model.inputs]
    else:
        from edgecc.frontend.onnx import load_model

        specs = _onnx_inputs(load_model(model), input_shapes)
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, shape, dtype in specs:
        if dtype.kind == "f":
            feeds[name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[name] = rng.integers(0, 2, shape).astype(bool)
        elif dtype.kind in "iu":
            if isinstance(int_ranges, Mapping):
                rng_for = int_ranges.get(name)
            else:
                rng_for = int_ranges
            if rng_for is None:
                raise ValueError(f"integer input {name!r} needs a range: pass int_ranges="
                                 f"{{{name!r}: (low, high)}}")
            low, high = rng_for
            feeds[name] = rng.integers(low, high, shape).astype(dtype)
        else:
            raise ValueError(f"input {name!r}: cannot make random {dtype} data")
    return feeds


# ---------------------------------------------------------------------------- weights
def _producers_and_users(graph: onnx.GraphProto) -> tuple[dict[str, onnx.NodeProto],
                                                          dict[str, list[tuple[onnx.NodeProto,
                                                                               int]]]]:
    producer = {o: n for n in graph.node for o in n.output if o}
    users: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name:
                users.setdefault(name, []).append((node, i))
    return producer, users


_PASS_THROUGH = frozenset({"Unsqueeze", "Reshape", "Identity", "Cast", "Squeeze", "Flatten",
                           "Transpose"})


def _role(name: str, users: Mapping[str, list[tuple[onnx.NodeProto, int]]],
          depth: int = 0) -> tuple[str, onnx.NodeProto | None]:
    """What a weight is used as: the first weight-like use found (through reshapes)."""
    for node, idx in users.get(name, []):
        op = node.op_type
        if op in _PASS_THROUGH and idx == 0 and depth < 4:
            role, where = _role(node.output[0], users, depth + 1)
            if role != "other":
                return role, where
            continue
        if op in ("Conv", "ConvTranspose"):
            return ("conv_w" if idx == 1 else "bias" if idx == 2 else "other"), node
        if op == "Gemm":
            return ("gemm_b" if idx == 1 else "bias" if idx == 2 else "other"), node
        if op == "MatMul":
            return ("matmul_b" if idx == 1 else "other"), node
        if op == "BatchNormalization":
            return ({1: "gamma", 2: "beta", 3: "bn_mean", 4: "bn_var"}.get(idx, "other")), node
        if op in ("InstanceNormalization", "LayerNormalization"):
            return ({1: "gamma", 2: "beta"}.get(idx, "other")), node
        if op == "PRelu" and idx == 1:
            return "slope", node
        if op in ("Mul", "Div"):
            return "gamma", node
        if op in ("Add", "Sub", "Sum"):
            return "beta", node
    return "other", None


def _attr(node: onnx.NodeProto | None, name: str, default: Any) -> Any:
    if node is not None:
        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
    return default


def _random_weight(role: str, shape: tuple[int, ...], node: onnx.NodeProto | None,
                   rng: np.random.Generator) -> np.ndarray | None:
    """Seeded float32 values for a weight of this role; None keeps the original."""

    def normal(std: float) -> np.ndarray:
        out = rng.standard_normal(shape, dtype=np.float32)
        out *= np.float32(std)
        return out

    def uniform(low: float, high: float) -> np.ndarray:
        out = rng.random(shape, dtype=np.float32)
        out *= np.float32(high - low)
        out += np.float32(low)
        return out

    if role == "conv_w":
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        if node is not None and node.op_type == "ConvTranspose":
            fan_in = int(np.prod(shape[2:])) * shape[0] // max(1, _attr(node, "group", 1))
        return normal(np.sqrt(2.0 / max(fan_in, 1)))
    if role in ("gemm_b", "matmul_b"):
        if role == "gemm_b":
            fan_in = shape[1] if _attr(node, "transB", 0) else shape[0]
        else:
            fan_in = shape[-2] if len(shape) >= 2 else shape[0]
        return normal(np.sqrt(2.0 / max(fan_in, 1)))
    if role in ("bias", "beta", "bn_mean"):
        return normal(0.1)
    if role in ("gamma", "bn_var"):
        return uniform(0.5, 1.5)
    if role == "slope":
        return uniform(0.0, 0.3)
    return None


def replace_constant_weights(model: ModelLike, seed: int = 0, *, calibrate: bool = True,
                             input_shapes: Mapping[str, Sequence[int]] | None = None
                             ) -> onnx.ModelProto:
    """A copy of `model` with seeded random weights of sensible scale.

    Float initializers and the outputs of `ConstantOfShape` nodes with a constant shape (the
    way ONNX's "light" models generate all of their weights) are replaced according to how
    they are used: conv / dense weights get He initialization (std sqrt(2 / fan_in)), biases and
    shifts N(0, 0.1), scales U(0.5, 1.5), BatchNorm means N(0, 0.1) and variances U(0.5, 1.5),
    PRelu slopes U(0, 0.3). Tensors with other uses (scalars, Clip bounds, exponents, shape
    operands) and integer tensors are kept.

    With `calibrate` (the default), the scales are then fixed from data, layer after layer with
    onnxruntime on a seeded N(0, 1) input, as a trained network would have them: each
    BatchNormalization's running mean and variance become the per-channel statistics of its
    actual input (the variance times a random factor in [0.8, 1.25]), and each Conv / Gemm /
    MatMul not followed by a BatchNorm has its weight and bias divided by the RMS of its output.
    Activations then stay O(1) however deep the network.

    Args:
        model: the model (path or proto).
        seed: the random seed (weights and calibration input).
        calibrate: fix the scales from data as above.
        input_shapes: shapes for inputs with symbolic dimensions (for the calibration input).
    """
    from edgecc.frontend.onnx import load_model

    source = load_model(model)
    feeds = (random_feeds(source, seed, int_ranges=(0, 2), input_shapes=input_shapes)
             if calibrate else {})
    out = copy.deepcopy(source)
    g = out.graph
    rng = np.random.default_rng(seed)
    inits = {t.name: t for t in g.initializer}
    _, users = _producers_and_users(g)

    # ConstantOfShape with a constant shape -> an initializer of that shape (its fill value
    # stays for tensors without a weight-like use)
    generated: dict[str, np.ndarray] = {}
    for node in list(g.node):
        if node.op_type != "ConstantOfShape" or node.input[0] not in inits:
            continue
        shape = tuple(int(d) for d in numpy_helper.to_array(inits[node.input[0]]))
        value = _attr(node, "value", None)
        fill = (numpy_helper.to_array(value).reshape(-1)[0] if value is not None
                else np.float32(0.0))
        generated[node.output[0]] = np.full(shape, fill, dtype=fill.dtype)
        g.node.remove(node)

    replaced: dict[str, np.ndarray] = {}
    for name in sorted(set(generated) | set(inits)):
        original = (generated[name] if name in generated
                    else numpy_helper.to_array(inits[name]))
        role, where = _role(name, users)
        keep = original.dtype.kind != "f" or role == "other" or original.size <= 1
        if keep:
            if name in generated:
                replaced[name] = original
            continue
        value = _random_weight(role, original.shape, where, rng)
        replaced[name] = original if value is None else value.astype(original.dtype,
                                                                      copy=False)

    for name in replaced:
        if name in inits:
            g.initializer.remove(inits[name])
    if calibrate:
        _calibrate(out, replaced, feeds, seed)
    listed = {vi.name for vi in g.input}
    for name, value in replaced.items():
        g.initializer.append(numpy_helper.from_array(value, name))
        if out.ir_version < 4 and name not in listed:  # IR 3: initializers are graph inputs
            g.input.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape))
    _drop_unused_initializers(out)
    return out


def _drop_unused_initializers(model: onnx.ModelProto) -> None:
    g = model.graph
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    dropped = {t.name for t in g.initializer if t.name not in used}
    for t in [t for t in g.initializer if t.name in dropped]:
        g.initializer.remove(t)
    for vi in [vi for vi in g.input if vi.name in dropped]:
        g.input.remove(vi)


def _levels(graph: onnx.GraphProto, points: Sequence[onnx.NodeProto]) -> list[int]:
    """For each point, the most calibration points on a path from the graph inputs to it."""
    producer = {o: n for n in graph.node for o in n.output if o}
    point_ids = {id(n) for n in points}
    memo: dict[str, int] = {}

    def count(tensor: str) -> int:
        # iterative DFS: the most points on a path ending at `tensor` (its producer included)
        stack = [tensor]
        while stack:
            t = stack[-1]
            if t in memo:
                stack.pop()
                continue
            node = producer.get(t)
            if node is None:
                memo[t] = 0
                stack.pop()
                continue
            pending = [i for i in node.input if i and i not in memo]
            if pending:
                stack.extend(pending)
                continue
            below = max((memo[i] for i in node.input if i), default=0)
            memo[t] = below + (1 if id(node) in point_ids else 0)
            stack.pop()
        return memo[tensor]

    return [max((count(i) for i in p.input if i), default=0) for p in points]


def _calibration_points(graph: onnx.GraphProto, consts: set[str]) -> list[tuple[Any, ...]]:
    """The tensors to calibrate, given the tunable constants `consts`.

    ("bn", node) for each BatchNorm with constant statistics; ("linear", node, [weight,
    bias]) for each Conv / ConvTranspose / Gemm / MatMul with a constant weight whose output
    does not only go into BatchNorms (which undo its scale anyway).
    """
    producer, users = _producers_and_users(graph)
    points: list[tuple[Any, ...]] = []
    weights_seen: set[str] = set()
    for node in graph.node:
        if node.op_type == "BatchNormalization" and len(node.input) >= 5 and {
                node.input[3], node.input[4]} <= consts:
            points.append(("bn", node))
        elif node.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul") and len(node.input) >= 2:
            roots = [_const_root(producer, n, consts) for n in node.input[1:3]]
            if (roots[0] is not None and roots[0] not in weights_seen
                    and not _only_into_batchnorm(node.output[0], users)):
                weights_seen.add(roots[0])
                points.append(("linear", node, [r for r in roots if r is not None]))
    return points


def _only_into_batchnorm(tensor: str,
                         users: Mapping[str, list[tuple[onnx.NodeProto, int]]]) -> bool:
    """True when every path from `tensor` ends in a BatchNorm's data input (which undoes any
    scale), never at a graph output or a dead end."""
    seen: set[str] = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        uses = users.get(t, [])
        if not uses:
            return False
        for node, idx in uses:
            if node.op_type == "BatchNormalization" and idx == 0:
                continue
            stack.extend(o for o in node.output if o)
    return True


def _const_root(producer: Mapping[str, onnx.NodeProto], name: str,
                consts: set[str]) -> str | None:
    """The constant of `consts` that tensor `name` is (through reshape-like ops), or None."""
    for _ in range(5):
        if name in consts:
            return name
        node = producer.get(name)
        if node is None or node.op_type not in _PASS_THROUGH:
            return None
        name = node.input[0]
    return None


def _calibrate(model: onnx.ModelProto, values: dict[str, np.ndarray],
               feeds: Mapping[str, np.ndarray], seed: int) -> None:
    """Data-driven scale fixing, layer after layer (see `replace_constant_weights`).

    `model` lacks the tensors of `values` (the new weights, updated in place); they are fed
    to one onnxruntime session as inputs beside `feeds`, with the measured tensors as extra
    outputs.
    """
    import onnxruntime as ort

    g = model.graph
    points = _calibration_points(g, set(values))
    if not points:
        return
    levels = _levels(g, [p[1] for p in points])

    probe = copy.deepcopy(model)
    pg = probe.graph
    listed = {vi.name for vi in pg.input}
    used = {i for n in pg.node for i in n.input}
    weights = {k: v for k, v in values.items() if k in used}
    for name, value in weights.items():
        if name not in listed:
            pg.input.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(value.dtype), value.shape))
    measured = [p[1].input[0] if p[0] == "bn" else p[1].output[0] for p in points]
    existing = {o.name for o in pg.output}
    for name in dict.fromkeys(measured):
        if name not in existing:
            pg.output.append(helper.make_empty_tensor_value_info(name))
    del pg.value_info[:]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(probe.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])

    def update(name: str, value: np.ndarray) -> None:
        values[name] = weights[name] = value.astype(values[name].dtype)

    rng = np.random.default_rng(seed + 1)
    for level in sorted(set(levels)):
        todo = [(p, m) for p, m, lv in zip(points, measured, levels) if lv == level]
        wanted = list(dict.fromkeys(m for _, m in todo))
        got = dict(zip(wanted, sess.run(wanted, {**feeds, **weights})))
        for point, name in todo:
            kind, node = point[:2]
            x = got[name].astype(np.float64)
            if kind == "bn":
                axes = tuple(i for i in range(x.ndim) if i != 1)
                mean, var = x.mean(axis=axes), x.var(axis=axes)
                factor = rng.uniform(0.8, 1.25, var.shape)
                update(node.input[3], mean)
                update(node.input[4], var * factor + 1e-3)
            else:
                rms = float(np.sqrt(np.mean(x * x)))
                if rms > 0 and np.isfinite(rms):
                    for w in point[2]:
                        update(w, values[w] / rms)
