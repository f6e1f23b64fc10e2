"""nn.dense and nn.matmul: ONNX Gemm and MatMul against onnxruntime and ONNX's node cases."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.errors import TypeInferenceError
from edgecc.frontend.onnx.importer import from_onnx
from edgecc.interpreter import run
from edgecc.ir.types import TensorType
from edgecc.ops import get_op, infer_type
from edgecc.testing.single_op import (
    InterpreterBackend,
    RandomArrays,
    check_against_ort,
    check_node_case,
    ir_ops,
    make_model,
    node_cases,
)

RNG = np.random.default_rng(3)
rand = RandomArrays(RNG)
# Sums of up to 64 float32 products of N(0, 1) values, in another order than onnxruntime's.
ATOL = 1e-5


# ---------------------------------------------------------------------- Gemm
M, K, N = 4, 6, 5

GEMM_CASES = [
    # (attrs, C shape or None)
    ({}, None),
    ({}, (N,)),
    ({}, ()),
    ({}, (1,)),
    ({}, (M, 1)),
    ({}, (M, N)),
    ({"transA": 1}, (N,)),
    ({"transB": 1}, (N,)),
    ({"alpha": 0.5}, (N,)),
    ({"beta": 2.0}, (N,)),
    ({"beta": 0.0}, (M, N)),
    ({"alpha": 0.25, "beta": 0.35, "transA": 1, "transB": 1}, (1, N)),
]


def _gemm_inputs(attrs: dict, c_shape: tuple | None) -> dict[str, np.ndarray | None]:
    a = rand(K, M) if attrs.get("transA") else rand(M, K)
    b = rand(N, K) if attrs.get("transB") else rand(K, N)
    return {"a": a, "b": b, "c": None if c_shape is None else rand(*c_shape)}


@pytest.mark.parametrize("const_b", [True, False])
@pytest.mark.parametrize("attrs, c_shape", GEMM_CASES)
def test_gemm(attrs: dict, c_shape: tuple | None, const_b: bool) -> None:
    ins = _gemm_inputs(attrs, c_shape)
    consts = ("b", "c") if const_b else ()
    model = make_model("Gemm", ins, attrs, opset=13, consts=consts, drop_trailing_empty=False)
    feeds = {k: v for k, v in ins.items() if v is not None and k not in consts}
    check_against_ort(model, feeds, atol=ATOL)


@pytest.mark.parametrize("opset", [7, 9, 11, 13])
def test_gemm_opsets(opset: int) -> None:
    ins = _gemm_inputs({"transB": 1}, (N,))
    model = make_model("Gemm", ins, {"transB": 1, "alpha": 2.0}, opset=opset, consts=("b", "c"))
    check_against_ort(model, {"a": ins["a"]}, atol=ATOL)


def test_gemm_opset6_broadcast() -> None:
    # onnxruntime implements Gemm from opset 7: check the formula directly.
    ins = _gemm_inputs({"transA": 1}, (N,))
    attrs = {"transA": 1, "alpha": 2.0, "beta": 0.5, "broadcast": 1}
    model = make_model("Gemm", ins, attrs, opset=6, consts=("b", "c"))
    got = run(from_onnx(model), {"a": ins["a"]})["y0"]
    a, b, c = ins["a"], ins["b"], ins["c"]
    assert a is not None and b is not None and c is not None
    np.testing.assert_allclose(got, 2.0 * a.T @ b + 0.5 * c, rtol=1e-5, atol=ATOL)


def test_gemm_float64() -> None:
    a, b, c = rand(3, 4, dtype="float64"), rand(4, 2, dtype="float64"), rand(2, dtype="float64")
    model = make_model("Gemm", {"a": a, "b": b, "c": c}, {"alpha": 1.5}, consts=("b",))
    check_against_ort(model, {"a": a, "c": c}, rtol=1e-12, atol=1e-12)


def test_gemm_lowering() -> None:
    ins = _gemm_inputs({"transB": 1}, (N,))
    # transB=1, C [N], alpha = beta = 1: one dense with its bias.
    assert ir_ops(make_model("Gemm", ins, {"transB": 1}, consts=("b", "c"))) == ["nn.dense"]
    # a constant B with transB=0: its transpose folds at import into the dense weight.
    ins = _gemm_inputs({}, (N,))
    assert ir_ops(make_model("Gemm", ins, {}, consts=("b", "c"))) == ["nn.dense"]
    # a run-time B with transB=0 is a matmul; C is then added.
    assert ir_ops(make_model("Gemm", ins, {})) == ["nn.matmul", "add"]
    assert ir_ops(make_model("Gemm", ins, {"alpha": 2.0, "beta": 3.0}, consts=("b", "c"))) == [
        "nn.dense", "mul", "add"]


# ---------------------------------------------------------------------- MatMul
MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)),
    ((1, 3, 4), (2, 1, 4, 6)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((4,), (4,)),
    ((4,), (4, 3)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
]


@pytest.mark.parametrize("const_b", [False, True])
@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES)
def test_matmul(a_shape: tuple, b_shape: tuple, const_b: bool) -> None:
    a, b = rand(*a_shape), rand(*b_shape)
    model = make_model("MatMul", {"a": a, "b": b}, consts=("b",) if const_b else ())
    feeds = {"a": a} if const_b else {"a": a, "b": b}
    check_against_ort(model, feeds, atol=ATOL)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint32", "uint64", "float64"])
@pytest.mark.parametrize("opset", [9, 13])
def test_matmul_dtypes(dtype: str, opset: int) -> None:
    if dtype.startswith("float"):
        a, b = rand(2, 3, 4, dtype=dtype), rand(4, 2, dtype=dtype)
    else:
        a = RNG.integers(0, 50, size=(2, 3, 4)).astype(dtype)
        b = RNG.integers(0, 50, size=(4, 2)).astype(dtype)
    model = make_model("MatMul", {"a": a, "b": b}, opset=opset)
    check_against_ort(model, {"a": a, "b": b}, rtol=1e-12, atol=1e-12)


def test_matmul_float16() -> None:
    a, b = rand(3, 8, dtype="float16"), rand(8, 5, dtype="float16")
    model = make_model("MatMul", {"a": a, "b": b})
    check_against_ort(model, {"a": a, "b": b}, rtol=1e-2, atol=1e-2)  # float16 rounding


# ---------------------------------------------------------------------- type rules and MACs
def test_dense_matmul_type_rules_and_macs() -> None:
    x, w, b = TensorType((2, 7, 16)), TensorType((8, 16)), TensorType((8,))
    out = infer_type("nn.dense", [x, w, b], {})
    assert out == TensorType((2, 7, 8))
    dense_macs = get_op("nn.dense").macs
    assert dense_macs is not None and dense_macs([x, w, b], out, {}) == 2 * 7 * 8 * 16
    with pytest.raises(TypeInferenceError, match="K="):
        infer_type("nn.dense", [x, TensorType((8, 15))], {})
    with pytest.raises(TypeInferenceError, match="bias"):
        infer_type("nn.dense", [x, w, TensorType((7,))], {})

    a, m = TensorType((5, 1, 3, 4)), TensorType((6, 4, 2))
    out = infer_type("nn.matmul", [a, m], {})
    assert out == TensorType((5, 6, 3, 2))
    matmul_macs = get_op("nn.matmul").macs
    assert matmul_macs is not None and matmul_macs([a, m], out, {}) == 5 * 6 * 3 * 2 * 4
    assert infer_type("nn.matmul", [TensorType((4,)), TensorType((4,))], {}).shape == ()
    with pytest.raises(TypeInferenceError, match="contraction"):
        infer_type("nn.matmul", [TensorType((3, 4)), TensorType((5, 2))], {})
    with pytest.raises(TypeInferenceError, match="broadcast"):
        infer_type("nn.matmul", [TensorType((2, 3, 4)), TensorType((3, 4, 2))], {})
    with pytest.raises(TypeInferenceError, match="dtype"):
        infer_type("nn.matmul", [TensorType((3, 4)), TensorType((4, 2), "float64")], {})


# ---------------------------------------------------------------------- ONNX node cases
CASES = node_cases({"Gemm", "MatMul"})


def test_node_cases_found() -> None:
    assert len(CASES) >= 18


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name], backend=InterpreterBackend)


# ---------------------------------------------------------------------- packed weights
def test_dense_packed_layout_type_rule_ref_and_macs() -> None:
    from edgecc.ops.nn import pack_dense_weight

    x, w, b = rand(2, 3, 8), rand(32, 8), rand(32)
    packed = pack_dense_weight(w, 16)
    assert packed.shape == (2, 8, 16) and packed[1, 5, 3] == w[19, 5]
    tx, tp, tb = TensorType(x.shape), TensorType(packed.shape), TensorType(b.shape)
    attrs = {"weight_layout": "NK16n"}
    out = infer_type("nn.dense", [tx, tp, tb], attrs)
    assert out == TensorType((2, 3, 32))
    dense = get_op("nn.dense")
    assert dense.macs is not None and dense.macs([tx, tp, tb], out, attrs) == 2 * 3 * 32 * 8
    assert dense.ref is not None
    np.testing.assert_allclose(dense.ref(x, packed, b, **attrs), dense.ref(x, w, b),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dense.ref(x, packed, **attrs), x @ w.T, rtol=1e-5, atol=1e-5)
    assert infer_type("nn.dense", [TensorType((4, 8)), TensorType((3, 8, 4))],
                      {"weight_layout": "NK4n"}) == TensorType((4, 12))


@pytest.mark.parametrize("w_shape, layout, match", [
    ((2, 8, 16), "NK8n", "NK8n needs"),       # the last dim is not the block
    ((32, 8), "NK16n", "NK16n needs"),        # a plain weight with a packed layout
    ((2, 8, 16), "NK", "NK needs"),           # a packed weight with the plain layout
    ((2, 8, 16), "KN16n", "weight_layout"),   # not a layout
    ((2, 8, 16), "NK0n", "weight_layout"),
    ((2, 7, 16), "NK16n", "K="),              # K disagrees with x
])
def test_dense_packed_layout_errors(w_shape: tuple, layout: str, match: str) -> None:
    with pytest.raises(TypeInferenceError, match=match):
        infer_type("nn.dense", [TensorType((4, 8)), TensorType(w_shape)],
                   {"weight_layout": layout})


def test_dense_packed_bias_shape() -> None:
    with pytest.raises(TypeInferenceError, match="bias"):
        infer_type("nn.dense", [TensorType((4, 8)), TensorType((2, 8, 16)), TensorType((16,))],
                   {"weight_layout": "NK16n"})
