"""Compute rules of the nn family against the interpreter: convolutions (groups, depthwise
multipliers, strides / pads / dilations, bias, float16, int8), transposed convolutions (pads
beyond the kernel, dilation, output_padding >= stride), dense / matmul (batch broadcast, 1-D
operands), pooling (ceil_mode, count_include_pad, pads >= kernel, NaN), normalizations and a
fused conv2d + add + relu + clip kernel."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.testing.codegen import check_group, check_op

rng = np.random.default_rng(3)


def _r(*shape: int, dtype: str = "float32", scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(dtype)


# --------------------------------------------------------------------------- conv2d
CONV = [  # (x shape, w shape, attrs)
    ((1, 3, 8, 8), (4, 3, 3, 3), {}),
    ((2, 3, 9, 7), (4, 3, 3, 2), {"strides": (2, 1), "pads": (1, 0, 2, 1), "dilations": (1, 2)}),
    ((1, 4, 6, 6), (4, 1, 3, 3), {"groups": 4, "pads": (1, 1, 1, 1)}),  # depthwise
    ((1, 2, 7, 7), (6, 1, 3, 3), {"groups": 2, "strides": (2, 2), "dilations": (2, 2)}),  # x3
    ((1, 6, 5, 5), (4, 3, 1, 3), {"groups": 2, "pads": (0, 1, 0, 1)}),  # grouped
]


@pytest.mark.parametrize("xs, ws, attrs", CONV, ids=lambda v: str(v))
@pytest.mark.parametrize("bias", [False, True])
def test_conv2d(xs, ws, attrs, bias) -> None:
    args = [_r(*xs), _r(*ws)] + ([_r(ws[0])] if bias else [])
    check_op("nn.conv2d", *args, attrs=attrs, consts=(1, 2), rtol=1e-4, atol=1e-5)


def test_conv2d_half_and_int() -> None:
    attrs = {"pads": (1, 1, 1, 1)}
    check_op("nn.conv2d", _r(1, 3, 6, 6, dtype="float16"), _r(4, 3, 3, 3, dtype="float16"),
             _r(4, dtype="float16"), attrs=attrs, rtol=2e-3, atol=2e-3)
    xi = rng.integers(-128, 128, size=(1, 3, 5, 5)).astype(np.int8)
    wi = rng.integers(-128, 128, size=(2, 3, 3, 3)).astype(np.int8)
    check_op("nn.conv2d", xi, wi, attrs=attrs)  # wraps in int8, as the reference
    check_op("nn.conv2d", xi, rng.integers(-9, 9, size=(3, 1, 3, 3)).astype(np.int8),
             attrs={"groups": 3})


# --------------------------------------------------------------------------- conv2d_transpose
CONVT = [  # (x shape, w shape [C, OC/g, kh, kw], attrs)
    ((1, 2, 4, 4), (2, 3, 3, 3), {}),
    ((1, 2, 4, 5), (2, 3, 3, 3), {"strides": (2, 2), "pads": (1, 1, 1, 1),
                                  "output_padding": (1, 1)}),
    ((1, 2, 4, 4), (2, 2, 3, 2), {"strides": (3, 2), "pads": (3, 0, 4, 2)}),  # pads > k - 1
    ((2, 3, 3, 4), (3, 2, 2, 3), {"strides": (2, 1), "dilations": (2, 3)}),
    ((1, 4, 3, 3), (4, 1, 3, 3), {"groups": 2, "strides": (2, 2), "output_padding": (2, 3)}),
    ((1, 4, 3, 3), (4, 2, 2, 2), {"groups": 4, "strides": (2, 2)}),
]


@pytest.mark.parametrize("xs, ws, attrs", CONVT, ids=lambda v: str(v))
def test_conv2d_transpose(xs, ws, attrs) -> None:
    oc = ws[1] * attrs.get("groups", 1)
    check_op("nn.conv2d_transpose", _r(*xs), _r(*ws), _r(oc), attrs=attrs, consts=(1, 2),
             rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_no_bias_half() -> None:
    check_op("nn.conv2d_transpose", _r(1, 2, 3, 3, dtype="float16"),
             _r(2, 2, 3, 3, dtype="float16"), attrs={"strides": (2, 2)}, rtol=2e-3, atol=2e-3)


# --------------------------------------------------------------------------- dense / matmul
def test_dense() -> None:
    check_op("nn.dense", _r(3, 8), _r(5, 8), consts=(1,), rtol=1e-5)
    check_op("nn.dense", _r(2, 3, 8), _r(5, 8), _r(5), consts=(1, 2), rtol=1e-5)
    check_op("nn.dense", _r(8), _r(4, 8), rtol=1e-5)
    check_op("nn.dense", _r(4, 16, dtype="float16"), _r(3, 16, dtype="float16"),
             _r(3, dtype="float16"), rtol=2e-3, atol=2e-3)
    check_op("nn.dense", rng.integers(-128, 128, (2, 9)).astype(np.int8),
             rng.integers(-128, 128, (3, 9)).astype(np.int8))


MATMUL = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
          ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3))]


@pytest.mark.parametrize("sa, sb", MATMUL, ids=str)
def test_matmul(sa, sb) -> None:
    check_op("nn.matmul", _r(*sa), _r(*sb), rtol=1e-5)


def test_matmul_int_half() -> None:
    check_op("nn.matmul", rng.integers(-50, 50, (2, 3, 6)).astype(np.int32),
             rng.integers(-50, 50, (6, 2)).astype(np.int32))
    check_op("nn.matmul", _r(3, 8, dtype="float16"), _r(8, 2, dtype="float16"), rtol=2e-3,
             atol=2e-3)


# --------------------------------------------------------------------------- pooling
POOL = [  # (x shape, attrs)
    ((1, 2, 7, 7), {"kernel": (3, 3)}),
    ((1, 2, 7, 8), {"kernel": (3, 2), "strides": (2, 2), "pads": (1, 0, 1, 1)}),
    ((1, 1, 7, 7), {"kernel": (3, 3), "strides": (2, 2), "pads": (1, 1, 0, 0),
                    "ceil_mode": True}),
    ((2, 1, 6, 5), {"kernel": (2, 2), "strides": (2, 3), "dilations": (2, 1), "ceil_mode": True,
                    "pads": (0, 1, 1, 0)}),
    ((1, 1, 4, 4), {"kernel": (2, 2), "strides": (2, 2), "pads": (2, 2, 2, 2)}),  # pads >= k
    ((1, 1, 4, 5), {"kernel": (1, 1), "strides": (2, 2), "pads": (0, 0, 1, 1),
                    "ceil_mode": True}),
]


@pytest.mark.parametrize("xs, attrs", POOL, ids=lambda v: str(v))
def test_max_pool2d(xs, attrs) -> None:
    x = _r(*xs)
    x.flat[::7] = np.nan  # fmax: a NaN wins only a window of NaNs
    x[0, 0, :2, :2] = np.nan
    check_op("nn.max_pool2d", x, attrs=attrs)


@pytest.mark.parametrize("xs, attrs", POOL, ids=lambda v: str(v))
@pytest.mark.parametrize("cip", [False, True])
def test_avg_pool2d(xs, attrs, cip) -> None:
    check_op("nn.avg_pool2d", _r(*xs), attrs={**attrs, "count_include_pad": cip})


def test_pool_int_and_half() -> None:
    attrs = {"kernel": (3, 3), "strides": (2, 2), "pads": (1, 1, 1, 1), "ceil_mode": True}
    check_op("nn.max_pool2d", rng.integers(-128, 128, (1, 2, 6, 6)).astype(np.int8),
             attrs=attrs)
    check_op("nn.avg_pool2d", _r(1, 2, 6, 6, dtype="float16"), attrs=attrs, rtol=1e-3,
             atol=1e-3)


def test_global_pools() -> None:
    x = _r(2, 3, 5, 7)
    check_op("nn.global_avg_pool2d", x)
    x[0, 1, 2, 2] = np.nan  # numpy max: NaN propagates here
    check_op("nn.global_max_pool2d", x)
    check_op("nn.global_avg_pool2d", np.full((1, 2, 40, 40), 0.1, np.float16), rtol=1e-3)
    check_op("nn.global_max_pool2d", rng.integers(0, 255, (1, 2, 3, 3)).astype(np.uint8))


# --------------------------------------------------------------------------- normalizations
def test_batch_norm() -> None:
    c = 3
    params = [_r(c), _r(c), _r(c), np.abs(_r(c)) + 0.1]
    check_op("nn.batch_norm", _r(2, c, 4, 4), *params, attrs={"epsilon": 1e-3}, consts=(1, 2, 3, 4))
    check_op("nn.batch_norm", _r(2, 5, c), *params, attrs={"axis": 2})
    check_op("nn.batch_norm", _r(2, c, dtype="float16"), *params, rtol=1e-3, atol=1e-3)


def test_instance_norm() -> None:
    check_op("nn.instance_norm", _r(2, 3, 4, 5, scale=3), _r(3), _r(3), consts=(1, 2),
             rtol=1e-4, atol=1e-5)
    check_op("nn.instance_norm", _r(1, 2, 7), _r(2), _r(2), attrs={"epsilon": 0.1},
             rtol=1e-4, atol=1e-5)
    check_op("nn.instance_norm", _r(1, 2, 3, 3, dtype="float16"), _r(2, dtype="float16"),
             _r(2, dtype="float16"), rtol=2e-3, atol=2e-3)


def test_layer_norm() -> None:
    x = _r(2, 3, 8, scale=2) + 1
    check_op("nn.layer_norm", x, _r(8), _r(8), attrs={"axis": 2}, consts=(1, 2), rtol=1e-4,
             atol=1e-5)
    check_op("nn.layer_norm", x, _r(3, 1), attrs={"axis": 1, "epsilon": 1e-3}, rtol=1e-4,
             atol=1e-5)  # gamma broadcast over the normalized shape, no beta
    check_op("nn.layer_norm", x.astype(np.float16), _r(8, dtype="float16"),
             _r(1, dtype="float16"), attrs={"axis": 2}, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("size", [1, 3, 4])
def test_lrn(size) -> None:
    check_op("nn.lrn", _r(1, 5, 3, 3, scale=3), attrs={"size": size, "alpha": 0.01,
                                                         "beta": 0.6, "bias": 2.0}, rtol=1e-5)


def test_dropout() -> None:
    check_op("nn.dropout", _r(2, 3), attrs={"ratio": 0.3})


# --------------------------------------------------------------------------- fused
def test_fused_conv_add_relu_clip() -> None:
    text = """
graph @main(%x: f32[1,3,8,8], %r: f32[1,4,8,8]) -> f32[1,4,8,8] {
  %w = const f32[4,3,3,3]
  %b = const f32[4]
  %1 = nn.conv2d(%x, %w, %b) {pads=(1,1,1,1)} : f32[1,4,8,8]
  %2 = add(%1, %r) : f32[1,4,8,8]
  %3 = nn.relu(%2) : f32[1,4,8,8]
  %4 = clip(%3) {min=0.0, max=6.0} : f32[1,4,8,8]
  return %4
}"""
    check_group(text, {"x": _r(1, 3, 8, 8), "r": _r(1, 4, 8, 8)},
                params={"w": _r(4, 3, 3, 3), "b": _r(4)}, rtol=1e-4, atol=1e-5)


def test_fused_dense_gelu_layer_norm() -> None:
    text = """
graph @main(%x: f32[2,4,16]) -> f32[2,4,8] {
  %w = const f32[8,16]
  %g = const f32[8]
  %1 = nn.dense(%x, %w) : f32[2,4,8]
  %2 = nn.gelu(%1) : f32[2,4,8]
  %3 = nn.layer_norm(%2, %g) {axis=2} : f32[2,4,8]
  return %3
}"""
    check_group(text, {"x": _r(2, 4, 16)}, params={"w": _r(8, 16), "g": _r(8)}, rtol=1e-4,
                atol=1e-5)
