"""Quantize ops: ONNX QuantizeLinear/DequantizeLinear (per tensor, per axis, several dtypes and
opsets) against onnxruntime, rounding and saturation, type rules, and ONNX's node cases."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from onnx import TensorProto

from edgecc.errors import TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx.importer import from_onnx
from edgecc.ir.graph import Graph
from edgecc.ir.types import TensorType
from edgecc.testing import single_op
from edgecc.testing.single_op import check_against_ort, check_node_case, node_cases, run_edgecc

RNG = np.random.default_rng(3)
make_model = functools.partial(single_op.make_model, ir_version=9)


def q_range(dtype: str) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


# ---------------------------------------------------------------------- quantize
@pytest.mark.parametrize(("dtype", "with_zp"), [("uint8", True), ("int8", True),
                                                 ("uint8", False)])  # no zero point: uint8
@pytest.mark.parametrize("opset", [10, 13, 19, 21])
@pytest.mark.parametrize("const_params", [True, False])
def test_quantize_per_tensor(dtype: str, opset: int, with_zp: bool, const_params: bool) -> None:
    x = RNG.uniform(-3, 3, size=(2, 3, 4)).astype(np.float32)
    x[0, 0, :4] = [0.05, 0.15, -0.05, -0.25]  # exact halves of the scale: ties to even
    scale = np.array(0.1, dtype=np.float32)
    zp = np.array(3 if dtype == "uint8" else -2, dtype=dtype) if with_zp else None
    consts = ("s", "z") if const_params else ()
    model = make_model("QuantizeLinear", {"x": x, "s": scale, "z": zp}, opset=opset,
                       consts=consts)
    check_against_ort(model, {"x": x, "s": scale, **({"z": zp} if with_zp else {})})


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "uint16"])
def test_quantize_saturates(dtype: str) -> None:
    x = np.array([-1e6, -300, -0.5, 0.5, 1.5, 2.5, 300, 1e6, 70000], dtype=np.float32)
    scale, zp = np.array(1.0, np.float32), np.array(1, dtype)
    model = make_model("QuantizeLinear", {"x": x, "s": scale, "z": zp}, opset=21,
                       consts=("s", "z"))
    (got,) = check_against_ort(model, {"x": x})
    lo, hi = q_range(dtype)
    assert got.min() == lo and got.max() == hi


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("dtype", ["uint8", "int8"])
@pytest.mark.parametrize("opset", [13, 21])
def test_quantize_per_axis(axis: int, dtype: str, opset: int) -> None:
    x = RNG.uniform(-5, 5, size=(2, 3, 4)).astype(np.float32)
    n = x.shape[axis]
    scale = RNG.uniform(0.02, 0.1, size=n).astype(np.float32)
    zp = RNG.integers(*(0, 20) if dtype == "uint8" else (-10, 10), size=n).astype(dtype)
    model = make_model("QuantizeLinear", {"x": x, "s": scale, "z": zp}, {"axis": axis},
                       opset=opset, consts=("s", "z"))
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("out", [TensorProto.INT8, TensorProto.UINT16, TensorProto.INT16])
def test_quantize_output_dtype_attr(out: int) -> None:
    x = RNG.uniform(-50, 50, size=(4, 5)).astype(np.float32)
    scale = np.array(0.01, np.float32)
    model = make_model("QuantizeLinear", {"x": x, "s": scale}, {"output_dtype": out}, opset=21,
                       consts=("s",))
    check_against_ort(model, {"x": x})


def test_quantize_float16_input() -> None:
    x = RNG.uniform(-3, 3, size=(3, 4)).astype(np.float16)
    scale, zp = np.array(0.05, np.float16), np.array(10, np.uint8)
    check_against_ort(make_model("QuantizeLinear", {"x": x, "s": scale, "z": zp}, opset=19,
                                 consts=("s", "z")), {"x": x})


def test_quantize_int32_input() -> None:
    x = RNG.integers(-1000, 1000, size=(3, 4)).astype(np.int32)
    scale, zp = np.array(8.0, np.float32), np.array(0, np.int8)
    (got,) = run_edgecc(make_model("QuantizeLinear", {"x": x, "s": scale, "z": zp}, opset=21,
                                   consts=("s", "z")), {"x": x})
    np.testing.assert_array_equal(got, np.clip(np.rint(x / 8.0), -128, 127).astype(np.int8))


def test_quantize_blocked_is_unsupported() -> None:
    x = np.zeros((2, 4), np.float32)
    scale, zp = np.ones((2, 2), np.float32), np.zeros((2, 2), np.uint8)
    model = make_model("QuantizeLinear", {"x": x, "s": scale, "z": zp},
                       {"axis": 1, "block_size": 2}, opset=21, consts=("s", "z"))
    with pytest.raises(UnsupportedError, match="blocked quantization"):
        from_onnx(model)


def test_quantize_float8_is_unsupported() -> None:
    x = np.zeros((2, 4), np.float32)
    model = make_model("QuantizeLinear", {"x": x, "s": np.array(1.0, np.float32)},
                       {"output_dtype": TensorProto.FLOAT8E4M3FN}, opset=21, consts=("s",))
    with pytest.raises(UnsupportedError, match="not supported"):
        from_onnx(model)


# ---------------------------------------------------------------------- dequantize
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int32"])
@pytest.mark.parametrize("opset", [10, 13, 19, 21])
@pytest.mark.parametrize("with_zp", [True, False])
def test_dequantize_per_tensor(dtype: str, opset: int, with_zp: bool) -> None:
    lo, hi = q_range(dtype) if dtype != "int32" else (-100000, 100000)
    x = RNG.integers(lo, hi, size=(2, 3, 4), endpoint=True).astype(dtype)
    scale = np.array(0.037, np.float32)
    zp = None
    if with_zp:
        zp = np.array(0 if dtype == "int32" else (lo + hi) // 3, dtype)  # int32: zp must be 0
    model = make_model("DequantizeLinear", {"x": x, "s": scale, "z": zp}, opset=opset,
                       consts=("s", "z"))
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("dtype", ["uint8", "int8"])
@pytest.mark.parametrize("const_params", [True, False])
def test_dequantize_per_axis(axis: int, dtype: str, const_params: bool) -> None:
    lo, hi = q_range(dtype)
    x = RNG.integers(lo, hi, size=(2, 3, 4), endpoint=True).astype(dtype)
    n = x.shape[axis]
    scale = RNG.uniform(0.01, 0.2, size=n).astype(np.float32)
    zp = RNG.integers(lo // 4, hi // 4, size=n).astype(dtype)
    model = make_model("DequantizeLinear", {"x": x, "s": scale, "z": zp}, {"axis": axis},
                       opset=13, consts=("s", "z") if const_params else ())
    check_against_ort(model, {"x": x, "s": scale, "z": zp})


@pytest.mark.parametrize("dtype", ["int16", "uint16"])
def test_dequantize_16bit(dtype: str) -> None:
    lo, hi = q_range(dtype)
    x = RNG.integers(lo, hi, size=(3, 5), endpoint=True).astype(dtype)
    scale, zp = np.array(0.001, np.float32), np.array(hi // 2, dtype)
    check_against_ort(make_model("DequantizeLinear", {"x": x, "s": scale, "z": zp}, opset=21,
                                 consts=("s", "z")), {"x": x})


def test_dequantize_float16_scale() -> None:
    x = RNG.integers(0, 255, size=(3, 5)).astype(np.uint8)
    scale, zp = np.array(0.02, np.float16), np.array(128, np.uint8)
    model = make_model("DequantizeLinear", {"x": x, "s": scale, "z": zp}, opset=19,
                       consts=("s", "z"))
    (got,) = check_against_ort(model, {"x": x}, rtol=1e-3, atol=1e-3)
    assert got.dtype == np.float16


def test_dequantize_output_dtype_attr() -> None:
    x = RNG.integers(-128, 127, size=(3, 5)).astype(np.int8)
    scale = np.array(0.02, np.float32)
    model = make_model("DequantizeLinear", {"x": x, "s": scale},
                       {"output_dtype": TensorProto.FLOAT16}, opset=23, consts=("s",))
    (got,) = run_edgecc(model, {"x": x})
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, (x * np.float16(0.02)).astype(np.float16), rtol=1e-3)


def test_quantize_dequantize_roundtrip() -> None:
    x = RNG.uniform(-1, 1, size=(4, 8)).astype(np.float32)
    scale, zp = np.array(1 / 127, np.float32), np.array(0, np.int8)
    (q,) = run_edgecc(make_model("QuantizeLinear", {"x": x, "s": scale, "z": zp}, opset=13,
                                 consts=("s", "z")), {"x": x})
    (back,) = run_edgecc(make_model("DequantizeLinear", {"x": q, "s": scale, "z": zp},
                                    opset=13, consts=("s", "z")), {"x": q})
    np.testing.assert_allclose(back, x, atol=0.5 / 127 + 1e-7)


# ---------------------------------------------------------------------- type rules
def _graph(*types: TensorType) -> tuple[Graph, list]:
    g = Graph()
    return g, [g.add_input(f"x{i}", t) for i, t in enumerate(types)]


def test_quantize_type_rules() -> None:
    g, (x, s, z, s3, z3) = _graph(TensorType((2, 3, 4), layout="CHW"), TensorType(()),
                                  TensorType((), "int8"), TensorType((3,)),
                                  TensorType((3,), "int8"))
    t = g.create_node("qnn.quantize", [x, s, z], {"out_dtype": "int8"}).type
    assert t == TensorType((2, 3, 4), "int8", "CHW")
    assert g.create_node("qnn.quantize", [x, s3, z3], {"axis": 1, "out_dtype": "int8"}).type
    with pytest.raises(TypeInferenceError, match="zero point"):
        g.create_node("qnn.quantize", [x, s, z], {"out_dtype": "uint8"})
    with pytest.raises(TypeInferenceError, match="does not match"):
        g.create_node("qnn.quantize", [x, s3, z3], {"axis": 2, "out_dtype": "int8"})
    with pytest.raises(TypeInferenceError, match="one shape"):
        g.create_node("qnn.quantize", [x, s3, z], {"out_dtype": "int8"})
    q = g.create_node("qnn.quantize", [x, s3, z3], {"axis": 1, "out_dtype": "int8"})
    assert g.create_node("qnn.dequantize", [q, s3, z3]).type == TensorType((2, 3, 4), layout="CHW")
    with pytest.raises(TypeInferenceError, match="must be"):
        g.create_node("qnn.dequantize", [x, s, z])


# ---------------------------------------------------------------------- ONNX node cases
ONNX_OPS = {"QuantizeLinear", "DequantizeLinear"}
CASE_NAMES = re.compile(r"^test_(quantizelinear|dequantizelinear)(_|$)")
# element types edgecc has no dtype for, and blocked quantization: clear UnsupportedErrors
UNSUPPORTED = re.compile(r"(?i)float8|e4m3|e5m2|e8m0|float4e2m1|(^|_)u?int[24](_|$)|blocked")


CASES = node_cases(ONNX_OPS, names=CASE_NAMES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name], fails_with="not supported" if UNSUPPORTED.search(name) else None)
