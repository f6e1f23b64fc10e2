"""Compute rules of the quantize family against the interpreter: round half to even,
saturation, per-tensor and per-axis parameters, half / double scales, int32 inputs, and a
fused dequantize + conv-free arithmetic + quantize kernel."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.testing.codegen import check_group, check_op

rng = np.random.default_rng(5)


@pytest.mark.parametrize("out_dtype", ["int8", "uint8", "int16", "uint16"])
def test_quantize_per_tensor(out_dtype) -> None:
    info = np.iinfo(out_dtype)
    # exact halves (round half to even), values far out of range (saturation), +-inf
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49, 1e9, -1e9, np.inf, -np.inf, 0.0],
                 np.float32)
    x = np.concatenate([x, rng.standard_normal(20).astype(np.float32) * 100])
    zp = np.array(info.min // 2 + info.max // 3, out_dtype)
    check_op("qnn.quantize", x, np.array(0.5, np.float32), zp, consts=(1, 2),
             attrs={"out_dtype": out_dtype})


def test_quantize_per_axis() -> None:
    x = (rng.standard_normal((2, 3, 4)) * 10).astype(np.float32)
    scale = np.array([0.1, 0.25, 2.0], np.float32)
    zp = np.array([-3, 0, 7], np.int8)
    check_op("qnn.quantize", x, scale, zp, attrs={"axis": 1, "out_dtype": "int8"})
    scale2 = np.array([0.5, 0.2, 1.0, 0.05], np.float32)
    zp2 = np.array([10, 128, 0, 255], np.uint8)
    check_op("qnn.quantize", x, scale2, zp2, attrs={"axis": -1, "out_dtype": "uint8"})


def test_quantize_scale_and_input_dtypes() -> None:
    x = (rng.standard_normal((3, 5)) * 4).astype(np.float16)
    check_op("qnn.quantize", x, np.array([0.03], np.float16), np.array([2], np.int8),
             attrs={"out_dtype": "int8"})  # float16 scale: divided in float32
    xd = (rng.standard_normal(9) * 40).astype(np.float64)
    check_op("qnn.quantize", xd, np.array(0.3, np.float64), np.array(3, np.uint8),
             attrs={"out_dtype": "uint8"})
    xi = np.array([-1000, -3, -1, 0, 1, 5, 7, 1000, 2**30], np.int32)
    check_op("qnn.quantize", xi, np.array(2.0, np.float32), np.array(0, np.int16),
             attrs={"out_dtype": "int16"})


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32"])
def test_dequantize(dtype) -> None:
    info = np.iinfo(dtype)
    x = np.array([info.min, info.min + 1, -1 if info.min else 1, 0, 1, info.max - 1, info.max],
                 dtype)
    zp = np.array(info.max // 2, dtype)  # x - zp overflows the dtype at the ends
    check_op("qnn.dequantize", x, np.array(0.125, np.float32), zp)


def test_dequantize_per_axis_and_half() -> None:
    x = rng.integers(-128, 128, (2, 3, 2)).astype(np.int8)
    check_op("qnn.dequantize", x, np.array([0.1, 0.2, 0.3], np.float32),
             np.array([1, -2, 0], np.int8), attrs={"axis": 1}, consts=(1, 2))
    check_op("qnn.dequantize", x, np.array([0.01, 0.5], np.float16), np.array([0, 5], np.int8),
             attrs={"axis": 2}, rtol=1e-3, atol=1e-3)


def test_fused_qdq() -> None:
    text = """
graph @main(%x: u8[2,8], %y: f32[2,8]) -> i8[2,8] {
  %s = const f32[]
  %z = const u8[]
  %s2 = const f32[8]
  %z2 = const i8[8]
  %1 = qnn.dequantize(%x, %s, %z) : f32[2,8]
  %2 = add(%1, %y) : f32[2,8]
  %3 = nn.relu(%2) : f32[2,8]
  %4 = qnn.quantize(%3, %s2, %z2) {axis=1, out_dtype="int8"} : i8[2,8]
  return %4
}"""
    check_group(text, {"x": rng.integers(0, 256, (2, 8)).astype(np.uint8),
                       "y": rng.standard_normal((2, 8)).astype(np.float32)},
                params={"s": np.array(0.05, np.float32), "z": np.array(128, np.uint8),
                        "s2": np.linspace(0.01, 0.1, 8).astype(np.float32),
                        "z2": np.arange(-4, 4).astype(np.int8)})
