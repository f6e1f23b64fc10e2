"""Single-op test helpers: one-node ONNX models, edgecc vs an oracle, random inputs, node cases."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from numpy.typing import DTypeLike
from onnx import helper, numpy_helper

from edgecc.frontend.onnx import from_onnx
from edgecc.interpreter import run
from edgecc.testing import conformance
from edgecc.testing.compare import run_onnxruntime


# ---------------------------------------------------------------------------- models
def model_from_node(node: onnx.NodeProto, inputs: Mapping[str, Any],
                    initializers: Mapping[str, Any] | None = None, *, opset: int = 17,
                    ir_version: int = 8) -> onnx.ModelProto:
    """A model whose graph is `node` alone.

    Args:
        node: the node; its non-empty outputs are the graph outputs (types left unspecified).
        inputs: the graph inputs by name; only their dtypes and shapes are used.
        initializers: the initializers by name.
        opset: the version of the default ONNX domain.
        ir_version: the model's IR version.

    Returns:
        The model (graph name "g").
    """
    graph_inputs = []
    for name, value in inputs.items():
        array = np.asarray(value)
        elem = helper.np_dtype_to_tensor_dtype(array.dtype)
        graph_inputs.append(helper.make_tensor_value_info(name, elem, array.shape))
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (initializers or {}).items()]
    outputs = [helper.make_empty_tensor_value_info(o) for o in node.output if o]
    graph = helper.make_graph([node], "g", graph_inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=ir_version)


def make_model(op: str, inputs: Mapping[str, np.ndarray | None],
               attrs: Mapping[str, Any] | None = None, *, consts: Collection[str] = (),
               outputs: int = 1, opset: int = 17, ir_version: int = 8,
               drop_trailing_empty: bool = True) -> onnx.ModelProto:
    """A model of one `op` node whose outputs are named y0, y1, ...

    Args:
        op: the op type (default ONNX domain).
        inputs: the node's inputs in order, by name; None omits an optional input ('').
        attrs: the node's attributes.
        consts: the names of `inputs` that are initializers; the others are graph inputs.
        outputs: the number of node (and graph) outputs.
        opset: the version of the default ONNX domain.
        ir_version: the model's IR version.
        drop_trailing_empty: leave trailing omitted inputs out of the node's input list
            instead of listing them as ''.

    Returns:
        The model.
    """
    names = ["" if value is None else name for name, value in inputs.items()]
    while drop_trailing_empty and names and names[-1] == "":
        names.pop()
    node = helper.make_node(op, names, [f"y{i}" for i in range(outputs)], **(attrs or {}))
    present = {k: v for k, v in inputs.items() if v is not None}
    return model_from_node(node, {k: v for k, v in present.items() if k not in consts},
                           {k: v for k, v in present.items() if k in consts}, opset=opset,
                           ir_version=ir_version)


# ---------------------------------------------------------------------------- running
def _runtime_feeds(model: onnx.ModelProto,
                   feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`feeds` without the model's initializers."""
    init = {t.name for t in model.graph.initializer}
    return {k: v for k, v in feeds.items() if k not in init}


def run_edgecc(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Import `model` and run it on edgecc's reference interpreter.

    Args:
        model: the model.
        feeds: the graph inputs by name; values given for initializers are ignored.

    Returns:
        The outputs in graph output order.
    """
    out = run(from_onnx(model), _runtime_feeds(model, feeds))
    return [out[o.name] for o in model.graph.output]


def ir_ops(model: onnx.ModelProto) -> list[str]:
    """The edgecc ops `model` imports to, in graph order."""
    return [n.op for n in from_onnx(model).ops()]


def assert_outputs_close(got: Sequence[Any], want: Sequence[Any], *, rtol: float = 1e-5,
                         atol: float = 1e-6) -> None:
    """Check outputs against expected ones: same count, and each the same dtype and shape.

    Floating-point values must pass `np.testing.assert_allclose(got, want, rtol, atol)` (NaNs
    in the same places are equal). Other values must be equal, except that integers may differ
    by up to `atol` when it is 1 or more (for rounding that can go either way).

    Args:
        got: the outputs to check.
        want: the expected outputs.
        rtol: the relative tolerance for floating-point values.
        atol: the absolute tolerance (see above for integers).

    Raises:
        AssertionError: on any difference.
    """
    if len(got) != len(want):
        raise AssertionError(f"{len(got)} output(s), expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        if g.dtype != w.dtype:
            raise AssertionError(f"output {i}: dtype {g.dtype}, expected {w.dtype}")
        if g.shape != w.shape:
            raise AssertionError(f"output {i}: shape {g.shape}, expected {w.shape}")
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"output {i}")
        elif w.dtype.kind in "iu" and atol >= 1:
            np.testing.assert_allclose(g, w, rtol=0, atol=atol, err_msg=f"output {i}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"output {i}")


def check_against_ort(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray], *,
                      rtol: float = 1e-5, atol: float = 1e-6) -> list[np.ndarray]:
    """Run `model` on edgecc, then on onnxruntime, and compare (`assert_outputs_close`).

    Args:
        model: the model.
        feeds: the graph inputs by name; values given for initializers are ignored.
        rtol: the relative tolerance.
        atol: the absolute tolerance.

    Returns:
        edgecc's outputs in graph output order.
    """
    got = run_edgecc(model, feeds)
    want = list(run_onnxruntime(model, _runtime_feeds(model, feeds)).values())
    assert_outputs_close(got, want, rtol=rtol, atol=atol)
    return got


def check_against_reference(model: onnx.ModelProto, feeds: Mapping[str, np.ndarray], *,
                            rtol: float = 1e-5, atol: float = 1e-6) -> list[np.ndarray]:
    """`check_against_ort` with ONNX's reference evaluator as the oracle.

    For the forms onnxruntime has no kernel for (old opsets, some dtypes).
    """
    from onnx.reference import ReferenceEvaluator

    got = run_edgecc(model, feeds)
    want = list(ReferenceEvaluator(model).run(None, _runtime_feeds(model, feeds)))
    assert_outputs_close(got, want, rtol=rtol, atol=atol)
    return got


# ---------------------------------------------------------------------------- inputs
class RandomArrays:
    """Seeded random arrays of any shape and dtype: `rand(2, 3)`, `rand(4, dtype="int8")`.

    Floats are N(0, 1), or uniform in [low, high) with `uniform`; integers are uniform in
    [low, high], from `uniform` when given, else from `ints`; booleans are fair coin flips.
    Calls draw from one generator in turn, so a test module's values depend on its seed and
    on the order of its draws only.

    Args:
        rng: the generator (shared with the caller), or a seed for a new one.
        uniform: the default [low, high) of floats and [low, high] of integers.
        ints: the default [low, high] of integers when `uniform` is None.
    """

    def __init__(self, rng: np.random.Generator | int, *,
                 uniform: tuple[float, float] | None = None,
                 ints: tuple[int, int] = (-50, 49)) -> None:
        self.rng = np.random.default_rng(rng)
        self.uniform = uniform
        self.ints = ints

    def __call__(self, *shape: int, dtype: DTypeLike = "float32", low: float | None = None,
                 high: float | None = None) -> np.ndarray:
        """A random array.

        Args:
            *shape: its shape.
            dtype: its dtype.
            low: replaces the lower bound of the default range (integers, uniform floats).
            high: replaces the upper bound likewise.

        Returns:
            The array.
        """
        kind = np.dtype(dtype).kind
        if kind == "b":
            return self.rng.random(shape) < 0.5
        if self.uniform is None and kind not in "iu":
            if low is not None or high is not None:
                raise ValueError("low and high apply to integers and uniform floats only")
            return self.rng.standard_normal(shape).astype(dtype)
        default = self.ints if self.uniform is None else self.uniform
        lo = default[0] if low is None else low
        hi = default[1] if high is None else high
        if kind in "iu":
            return self.rng.integers(int(lo), int(hi), size=shape, endpoint=True).astype(dtype)
        return self.rng.uniform(lo, hi, size=shape).astype(dtype)


# ---------------------------------------------------------------------------- node cases
def node_cases(ops: Collection[str], *, names: str | re.Pattern[str] | None = None,
               allowed: Collection[str] | None = None) -> dict[str, Any]:
    """ONNX's node conformance cases of some ops, by name in sorted order.

    A case qualifies when its model uses at least one op type of `ops`, uses no op type outside
    `allowed`, and (with `names`) its name matches.

    Args:
        ops: the op types under test.
        names: a regex the case names must match (`re.match`).
        allowed: the op types a case may use (default: `ops`); list more to take in function
            body variants (`_expanded`) built of other ops.

    Returns:
        The cases (`onnx.backend.test` TestCase objects) by name.
    """
    wanted = set(ops)
    allowed = wanted if allowed is None else set(allowed)
    pattern = None if names is None else re.compile(names)
    cases = {}
    for case in conformance.load_node_cases():
        used = conformance.case_op_types(case)
        if used & wanted and used <= allowed and (pattern is None or pattern.match(case.name)):
            cases[case.name] = case
    return dict(sorted(cases.items()))


class _InterpreterRep:
    """A model prepared by `InterpreterBackend`."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        init = {t.name for t in model.graph.initializer}
        self.input_names = [i.name for i in model.graph.input if i.name not in init]

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The outputs for `inputs` (in graph input order, initializers excluded)."""
        return run_edgecc(self.model, dict(zip(self.input_names, inputs)))


class InterpreterBackend:
    """A bare ONNX backend for `conformance.run_case`: `from_onnx`, then the interpreter.

    Unlike `edgecc.onnx_backend.EdgeccInterpreterBackend`, it binds no graph input to its
    value: shape-like operands fed at run time reach the importer as graph inputs, as in a
    model deployed so.
    """

    @staticmethod
    def prepare(model: onnx.ModelProto, device: str = "CPU") -> _InterpreterRep:
        """Prepare `model` (it is imported at each run, where import errors surface).

        Args:
            model: the model.
            device: ignored (the interpreter runs on the CPU).

        Returns:
            The prepared model: `run(inputs)` returns the outputs in graph output order.
        """
        return _InterpreterRep(model)


def check_node_case(case: Any, *, backend: Any = None, fails_with: str | None = None) -> None:
    """Run an ONNX node case with `conformance.run_case` and check how it went.

    Args:
        case: the case (see `node_cases`).
        backend: `EdgeccInterpreterBackend` when None, or `InterpreterBackend`.
        fails_with: None when the case must pass (outputs of the same dtype and shape as the
            expected ones, within the case's tolerances), else a regex that the first line of
            the error (`ErrorClass: message`) must match (`re.search`).

    Raises:
        AssertionError: when the case does not go as expected.
    """
    passed, error, _ = conformance.run_case(case, backend)
    if fails_with is None:
        if not passed:
            raise AssertionError(f"{case.name}: {error}")
    elif passed or error is None or not re.search(fails_with, error):
        raise AssertionError(f"{case.name} should fail with {fails_with!r}, got: "
                             f"{'a pass' if passed else error}")
