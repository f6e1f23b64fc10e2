"""ONNX's node conformance cases for edgecc's operator list, run through the interpreter backend.

`OnnxBackendNodeModelTest` holds one test per in-scope case (`<case>_cpu`); out-of-scope cases
are skipped with their reason. The op -> case mapping lives in `edgecc.testing.conformance`.
"""

from __future__ import annotations

import re
import unittest
import warnings

import numpy as np
import onnx
import onnx.backend.test
import pytest
from onnx import TensorProto, helper

import edgecc.onnx_backend as backend
from edgecc.errors import InputError, UnsupportedError, UnsupportedOpsError
from edgecc.onnx_backend import EdgeccInterpreterBackend
from edgecc.testing import conformance

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ONNX's case generators overflow casts on purpose
    backend_test = onnx.backend.test.BackendTest(EdgeccInterpreterBackend, __name__)

_NODE_CLASS = "OnnxBackendNodeModelTest"
_ALL_NAMES = sorted(n[: -len("_cpu")] for n in vars(backend_test.test_cases[_NODE_CLASS])
                    if n.startswith("test_") and n.endswith("_cpu"))
SELECTION = conformance.select_cases(_ALL_NAMES)

for _names in SELECTION.by_op.values():
    if _names:
        backend_test.include("^(?:" + "|".join(re.escape(n) for n in _names) + ")_cpu$")
if SELECTION.excluded:
    backend_test.include("^(?:" + "|".join(map(re.escape, SELECTION.excluded)) + ")_cpu$")


def _node_test_class() -> type[unittest.TestCase]:
    """The node test class, trimmed to our cases; excluded ones skip with their reason, known
    failures (`conformance.KNOWN_FAILURES`) are expected to fail."""
    cls = backend_test.test_cases[_NODE_CLASS]
    for attr in [a for a in vars(cls) if a.startswith("test_")]:
        base = attr[: -len("_cpu")] if attr.endswith("_cpu") else None
        if base in SELECTION.excluded:
            setattr(cls, attr, unittest.skip(SELECTION.excluded[base])(getattr(cls, attr)))
        elif base not in SELECTION.op_of:
            delattr(cls, attr)
        elif conformance.known_failure(base):
            setattr(cls, attr, unittest.expectedFailure(getattr(cls, attr)))
    return cls


globals()[_NODE_CLASS] = _node_test_class()


# ---------------------------------------------------------------------- the op -> case mapping
def test_every_op_has_cases() -> None:
    empty = [op for op, names in SELECTION.by_op.items() if not names]
    assert not empty, f"no node cases for {empty}"
    assert len(conformance.ONNX_OPS) == len(set(conformance.ONNX_OPS)) == len(conformance.OP_CASES)


def test_case_mapping_matches_models() -> None:
    """Each selected case's (non-expanded) model uses its op; each single-op case is taken."""
    cases = {c.name: c for c in conformance.load_node_cases()}
    for name in list(SELECTION.op_of) + list(SELECTION.excluded):
        op = conformance.op_of_case(name)
        base = cases[conformance.base_name(name)]
        assert op in conformance.case_op_types(base), (name, op)
    for name, case in cases.items():
        ops = conformance.case_op_types(case)
        if conformance.base_name(name) == name and len(ops) == 1 and ops <= set(
                conformance.ONNX_OPS):
            assert conformance.op_of_case(name) == next(iter(ops)), name


@pytest.mark.parametrize(("name", "op"), [
    ("test_exp", "Exp"), ("test_expand_dim_changed", "Expand"), ("test_max_example", "Max"),
    ("test_maxpool_2d_default", "MaxPool"), ("test_greater_equal", None), ("test_less", "Less"),
    ("test_split_to_sequence_1", None), ("test_gather_elements_0", None),
    ("test_reduce_sum_square_keepdims_random", None), ("test_constant_pad", "Pad"),
    ("test_constant", "Constant"), ("test_basic_conv_with_padding", "Conv"),
    ("test_convinteger_with_padding", None), ("test_castlike_FLOAT_to_DOUBLE", None),
    ("test_elu_expanded_ver18", "Elu"), ("test_dynamicquantizelinear", None),
])
def test_op_of_case(name: str, op: str | None) -> None:
    assert conformance.op_of_case(name) == op


# ---------------------------------------------------------------------- the backend itself
def _add_model(shape: tuple[int, ...] | list = (2, 3)) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
    out = helper.make_tensor_value_info("z", TensorProto.FLOAT, shape)
    graph = helper.make_graph([helper.make_node("Add", ["x", "y"], ["z"])], "g", [x, y], [out])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_prepare_run_list_and_dict() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 3), np.float32)
    rep = backend.prepare(_add_model())
    (z,) = rep.run([a, b])
    np.testing.assert_array_equal(z, a + b)
    out = rep.run({"y": b, "x": a})
    np.testing.assert_array_equal(out["z"], a + b)
    np.testing.assert_array_equal(backend.run_model(_add_model(), [a, b])[0], a + b)


def test_run_rejects_bad_inputs() -> None:
    rep = backend.prepare(_add_model())
    with pytest.raises(InputError, match="takes 2"):
        rep.run([np.zeros((2, 3), np.float32)])
    with pytest.raises(InputError, match="unknown input"):
        rep.run({"x": np.zeros((2, 3), np.float32), "w": np.zeros((2, 3), np.float32)})


def test_executor_and_device() -> None:
    with pytest.raises(UnsupportedError, match="not implemented yet"):
        backend.prepare(_add_model(), executor="jit")
    assert backend.prepare(_add_model()).executor == "compiled"
    assert EdgeccInterpreterBackend.prepare(_add_model()).executor == "interpreter"
    with pytest.raises(UnsupportedError, match="CPU only"):
        backend.prepare(_add_model(), "CUDA")
    assert backend.supports_device("CPU") and not backend.supports_device("CUDA")
    with pytest.raises(TypeError, match="unexpected keyword"):
        backend.prepare(_add_model(), bogus=1)


def test_unsupported_ops_listed_at_prepare() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = helper.make_graph([helper.make_node("NotAnOnnxOp", ["x"], ["y"], domain="x.y")],
                              "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("x.y", 1)])
    with pytest.raises(UnsupportedOpsError, match="NotAnOnnxOp"):
        backend.prepare(model)


def test_symbolic_dims_are_specialized_at_run() -> None:
    rep = backend.prepare(_add_model(["n", 3]))
    for n in (1, 4):
        a = np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)
        np.testing.assert_allclose(rep.run([a, a])[0], 2 * a)
    assert len(rep._cache) == 2


def test_shape_operand_given_as_input_is_bound_at_run() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    s = helper.make_tensor_value_info("s", TensorProto.INT64, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"])], "g", [x, s], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert backend.static_graph_inputs(model) == ["s"]
    rep = backend.prepare(model)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    for shape in ([3, 2], [6, 1], [3, 2]):
        (out,) = rep.run([a, np.array(shape, np.int64)])
        np.testing.assert_array_equal(out, a.reshape(shape))
    assert len(rep._cache) == 2


def test_run_node() -> None:
    node = helper.make_node("Relu", ["x"], ["y"])
    x = np.array([-1.0, 0.5, 2.0], np.float32)
    np.testing.assert_array_equal(backend.run_node(node, [x])[0], np.maximum(x, 0))
    np.testing.assert_array_equal(backend.run_node(node, [x], opset_version=13)[0],
                                  np.maximum(x, 0))
