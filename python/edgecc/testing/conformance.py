"""ONNX node conformance: which of ONNX's single-op cases edgecc claims, and running them.

`ONNX_OPS` is the operator list edgecc implements; `OP_CASES` maps each op to a regex over
the node case names (without the `_cpu` suffix; `_expanded` function-body variants count as
the op's cases); `EXCLUDED` lists cases that are out of scope, each with its reason. The same
selection feeds `tests/frontend/test_onnx_backend.py` (through `onnx.backend.test.BackendTest`)
and `benchmarks/onnx_conformance.py`.
"""

from __future__ import annotations

import functools
import re
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import onnx

ONNX_OPS: tuple[str, ...] = (
    "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp",
    "Log", "Erf", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Relu", "LeakyRelu", "PRelu",
    "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Mish", "Gelu",
    "Clip", "Softmax", "LogSoftmax", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
    "Flatten", "Reshape", "Transpose", "Concat", "Split", "Slice", "Squeeze", "Unsqueeze",
    "Gather", "Pad", "Resize", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ArgMax",
    "Identity", "Dropout", "Constant", "ConstantOfShape", "Shape", "Cast", "Expand", "Where",
    "Equal", "Greater", "Less", "Max", "Min", "Sum", "Mean", "Tile", "Range", "DepthToSpace",
    "SpaceToDepth", "LRN", "QuantizeLinear", "DequantizeLinear",
)

# Regexes over base case names (`test_xxx`, no device suffix). `(_|$)` keeps `test_exp` from
# taking `test_expand`, `test_max_` from taking `test_maxpool`, and so on.
OP_CASES: dict[str, str] = {
    "Conv": r"^test_(basic_)?conv_",  # not convinteger, deform_conv, convtranspose
    "ConvTranspose": r"^test_convtranspose(_|$)",
    "Gemm": r"^test_gemm_",
    "MatMul": r"^test_matmul_",  # not matmulinteger
    "Add": r"^test_add(_|$)",
    "Sub": r"^test_sub(_|$)",
    "Mul": r"^test_mul(_|$)",
    "Div": r"^test_div(_|$)",
    "Pow": r"^test_pow(_|$)",
    "Sqrt": r"^test_sqrt(_|$)",
    "Exp": r"^test_exp(_|$)",
    "Log": r"^test_log(_|$)",
    "Erf": r"^test_erf(_|$)",
    "Neg": r"^test_neg(_|$)",
    "Abs": r"^test_abs(_|$)",
    "Reciprocal": r"^test_reciprocal(_|$)",
    "Floor": r"^test_floor(_|$)",
    "Ceil": r"^test_ceil(_|$)",
    "Relu": r"^test_relu(_|$)",
    "LeakyRelu": r"^test_leakyrelu(_|$)",
    "PRelu": r"^test_prelu(_|$)",
    "Elu": r"^test_elu(_|$)",
    "Selu": r"^test_selu(_|$)",
    "Sigmoid": r"^test_sigmoid(_|$)",
    "HardSigmoid": r"^test_hardsigmoid(_|$)",
    "HardSwish": r"^test_hardswish(_|$)",
    "Tanh": r"^test_tanh(_|$)",
    "Softplus": r"^test_softplus(_|$)",
    "Mish": r"^test_mish(_|$)",
    "Gelu": r"^test_gelu(_|$)",
    "Clip": r"^test_clip(_|$)",
    "Softmax": r"^test_softmax(_|$)",
    "LogSoftmax": r"^test_logsoftmax(_|$)",
    "MaxPool": r"^test_maxpool(_|$)",
    "AveragePool": r"^test_averagepool(_|$)",
    "GlobalAveragePool": r"^test_globalaveragepool(_|$)",
    "GlobalMaxPool": r"^test_globalmaxpool(_|$)",
    "BatchNormalization": r"^test_batchnorm(_|$)",
    "InstanceNormalization": r"^test_instancenorm(_|$)",
    "LayerNormalization": r"^test_layer_normalization(_|$)",
    "Flatten": r"^test_flatten(_|$)",
    "Reshape": r"^test_reshape(_|$)",
    "Transpose": r"^test_transpose(_|$)",
    "Concat": r"^test_concat(_|$)",
    "Split": r"^test_split_(?!to_sequence)",  # SplitToSequence is another op
    "Slice": r"^test_slice(_|$)",
    "Squeeze": r"^test_squeeze(_|$)",
    "Unsqueeze": r"^test_unsqueeze(_|$)",
    "Gather": r"^test_gather_(?!elements)",  # not gather_elements, gathernd
    "Pad": r"^test_(constant|edge|reflect|wrap)_pad(_|$)",
    "Resize": r"^test_resize(_|$)",
    "ReduceMean": r"^test_reduce_mean(_|$)",
    "ReduceSum": r"^test_reduce_sum_(?!square)",  # not reduce_sum_square
    "ReduceMax": r"^test_reduce_max(_|$)",
    "ReduceMin": r"^test_reduce_min(_|$)",
    "ArgMax": r"^test_argmax(_|$)",
    "Identity": r"^test_identity(_|$)",
    "Dropout": r"^test_(training_)?dropout(_|$)",
    "Constant": r"^test_constant$",  # test_constant_pad* are Pad's
    "ConstantOfShape": r"^test_constantofshape(_|$)",
    "Shape": r"^test_shape(_|$)",
    "Cast": r"^test_cast_",  # not castlike
    "Expand": r"^test_expand(_|$)",
    "Where": r"^test_where(_|$)",
    "Equal": r"^test_equal(_|$)",
    "Greater": r"^test_greater(_(?!equal)|$)",  # greater_equal is GreaterOrEqual
    "Less": r"^test_less(_(?!equal)|$)",  # less_equal is LessOrEqual
    "Max": r"^test_max_",  # not maxpool, maxunpool
    "Min": r"^test_min_",
    "Sum": r"^test_sum_",
    "Mean": r"^test_mean_",
    "Tile": r"^test_tile(_|$)",
    "Range": r"^test_range(_|$)",
    "DepthToSpace": r"^test_depthtospace(_|$)",
    "SpaceToDepth": r"^test_spacetodepth(_|$)",
    "LRN": r"^test_lrn(_|$)",
    "QuantizeLinear": r"^test_quantizelinear(_|$)",  # not dynamicquantizelinear
    "DequantizeLinear": r"^test_dequantizelinear(_|$)",
}

# Out-of-scope cases: regex over base names -> the reason (one line each).
EXCLUDED: dict[str, str] = {
    r"_training_mode$|^test_training_dropout": "training mode: edgecc compiles inference graphs",
    r"(?i)float8|e4m3|e5m2|e8m0": "float8 element types are not edgecc dtypes",
    r"(?i)float4e2m1": "float4 element types are not edgecc dtypes",
    r"(?i)(^|_)u?int[24](_|$)": "int4/int2 (sub-byte) element types are not edgecc dtypes",
    r"_string(_|$)": "string tensors are not edgecc dtypes",
    r"^test_identity_(sequence|opt)$": "sequence and optional types are not edgecc types",
    r"^test_range_.*_expanded$": "the function body of Range uses Loop (control flow)",
}

# In-scope cases edgecc fails today, each with why: the backend test expects them to fail (an
# unexpected pass is reported), and they count against the pass rate.
KNOWN_FAILURES: dict[str, str] = {
    r"^test_(averagepool|maxpool|convtranspose|conv)_3d":
        "3-D convolution and pooling are not implemented (the IR has 2-D ops only)",
    r"^test_resize_tf_crop_and_resize": "Resize's tf_crop_and_resize mode is not implemented",
    r"^test_resize_.*_antialias$": "antialiased (shrinking) Resize is not implemented",
    r"^test_(de)?quantizelinear_blocked": "blocked quantization is not implemented",
    r"^test_maxpool_with_argmax": "MaxPool's Indices output is not implemented",
    r"^test_resize_downsample_scales_(linear|cubic)_align_corners$":
        "ONNX's expected values use length * scale (not the output size) for align_corners; "
        "edgecc follows onnxruntime",
}

_SUFFIX = re.compile(r"_expanded(_ver\d+)?$")


def base_name(case_name: str) -> str:
    """The non-expanded case a name belongs to (`test_elu_expanded_ver18` -> `test_elu`)."""
    return _SUFFIX.sub("", case_name)


def op_of_case(name: str) -> str | None:
    """The ONNX op of `ONNX_OPS` whose cases include `name` (no device suffix), or None."""
    hits = [op for op, pattern in OP_CASES.items() if re.search(pattern, name)]
    if len(hits) > 1:
        raise AssertionError(f"case {name} matches several ops: {hits}")
    return hits[0] if hits else None


def known_failure(name: str) -> str | None:
    """Why an in-scope case is expected to fail, or None."""
    base = base_name(name)
    for pattern, reason in KNOWN_FAILURES.items():
        if re.search(pattern, base):
            return reason
    return None


def exclusion_reason(name: str) -> str | None:
    """Why case `name` is out of scope, or None when it is in scope."""
    for pattern, reason in EXCLUDED.items():
        if re.search(pattern, name):
            return reason
    return None


@functools.cache
def load_node_cases() -> tuple[Any, ...]:
    """ONNX's node conformance cases (generated in memory; a few seconds, cached)."""
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the case generators overflow casts on purpose
        return tuple(load_model_tests(kind="node"))


@dataclass
class Selection:
    """The node cases of `ONNX_OPS`: in scope by op, and excluded ones with their reason."""

    by_op: dict[str, list[str]] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    op_of: dict[str, str] = field(default_factory=dict)

    @property
    def in_scope(self) -> list[str]:
        return sorted(self.op_of)


def select_cases(names: Iterable[str] | None = None) -> Selection:
    """Split case names (default: every node case) into in-scope per op and excluded."""
    if names is None:
        names = [c.name for c in load_node_cases()]
    sel = Selection(by_op={op: [] for op in ONNX_OPS})
    for name in sorted(names):
        op = op_of_case(name)
        if op is None:
            continue
        reason = exclusion_reason(name)
        if reason is not None:
            sel.excluded[name] = reason
            continue
        sel.by_op[op].append(name)
        sel.op_of[name] = op
    return sel


def case_op_types(case: Any) -> set[str]:
    """The op types a case's model uses."""
    return {n.op_type for n in case.model.graph.node}


def _to_array(value: Any) -> Any:
    if isinstance(value, onnx.TensorProto):
        return onnx.numpy_helper.to_array(value)
    return value


def first_line(exc: BaseException) -> str:
    """`ErrorClass: first line of the message`."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def run_case(case: Any, backend: Any = None) -> tuple[bool, str | None, float]:
    """Run one node case through the backend; returns (passed, error's first line, seconds).

    Outputs are compared as ONNX's runner does (same dtype and shape, the case's rtol/atol).
    """
    from onnx.backend.test.runner import Runner

    if backend is None:
        from edgecc.onnx_backend import EdgeccInterpreterBackend as backend
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rep = backend.prepare(case.model, "CPU")
            for inputs, ref_outputs in case.data_sets:
                outputs = rep.run([_to_array(x) for x in inputs])
                Runner.assert_similar_outputs(
                    [_to_array(x) for x in ref_outputs], list(outputs), rtol=case.rtol,
                    atol=case.atol, model_dir=case.name)
    except Exception as exc:  # every failure is reported, none stops the run
        return False, first_line(exc), time.perf_counter() - start
    return True, None, time.perf_counter() - start


@dataclass
class CaseResult:
    name: str
    op: str
    passed: bool
    error: str | None
    seconds: float


def run_conformance(names: Sequence[str] | None = None,
                    backend: Any = None) -> tuple[Selection, list[CaseResult]]:
    """Run the in-scope cases (or the given subset of them)."""
    sel = select_cases()
    cases = {c.name: c for c in load_node_cases()}
    wanted = sel.in_scope if names is None else [n for n in names if n in sel.op_of]
    results = []
    for name in wanted:
        ok, err, secs = run_case(cases[name], backend)
        results.append(CaseResult(name, sel.op_of[name], ok, err, secs))
    return sel, results


def summarize(sel: Selection, results: Sequence[CaseResult]) -> dict[str, Any]:
    """Per-op and overall pass counts (an op passes when all of its run cases pass)."""
    per_op: dict[str, dict[str, Any]] = {}
    for op in ONNX_OPS:
        mine = [r for r in results if r.op == op]
        passed = sum(r.passed for r in mine)
        per_op[op] = {
            "cases": len(mine), "passed": passed,
            "excluded": sum(1 for n in sel.excluded if op_of_case(n) == op),
            "status": ("not run" if not mine else "pass" if passed == len(mine) else "fail"),
        }
    loaded = [op for op, s in per_op.items() if s["cases"]]
    ops_passed = [op for op in loaded if per_op[op]["status"] == "pass"]
    n_pass = sum(r.passed for r in results)
    failing = {r.name: r.error for r in results if not r.passed}
    return {
        "operators": {"passed": len(ops_passed), "loaded": len(loaded), "total": len(ONNX_OPS)},
        "cases": {"passed": n_pass, "total": len(results), "excluded": len(sel.excluded),
                  "rate": n_pass / len(results) if results else 0.0},
        "per_op": per_op,
        "failing": failing,
        "excluded": dict(sel.excluded),
    }


def summary_line(summary: dict[str, Any]) -> str:
    """`operators passed/loaded/total ..., cases passed/total (rate)` in one line."""
    o, c = summary["operators"], summary["cases"]
    return (f"ONNX node conformance: operators {o['passed']}/{o['loaded']}/{o['total']} "
            f"(passed/loaded/total), cases {c['passed']}/{c['total']} ({100 * c['rate']:.1f}%), "
            f"{c['excluded']} excluded as out of scope")


def to_markdown(summary: dict[str, Any]) -> str:
    """The summary as a markdown report."""
    lines = ["# edgecc ONNX node conformance", "", summary_line(summary), "",
             "| operator | passed / cases | excluded | status |", "|---|---|---|---|"]
    for op, s in summary["per_op"].items():
        lines.append(f"| {op} | {s['passed']} / {s['cases']} | {s['excluded']} | {s['status']} |")
    lines += ["", f"## Failing cases ({len(summary['failing'])})", ""]
    if not summary["failing"]:
        lines.append("None.")
    for name, err in summary["failing"].items():
        lines.append(f"- `{name}`: {err}")
    lines += ["", f"## Excluded cases ({len(summary['excluded'])})", ""]
    for name, reason in summary["excluded"].items():
        lines.append(f"- `{name}`: {reason}")
    return "\n".join(lines) + "\n"

