"""nn.conv2d and nn.conv2d_transpose: ONNX Conv/ConvTranspose vs onnxruntime and ONNX's cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from edgecc.errors import EdgeccError, TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx.importer import from_onnx
from edgecc.ir.types import TensorType
from edgecc.ops import get_op, infer_type, normalize_attrs
from edgecc.ops.nn_conv import pack_kernel, unpack_kernel
from edgecc.testing.single_op import (
    InterpreterBackend,
    RandomArrays,
    check_against_ort,
    check_against_reference,
    check_node_case,
    make_model,
    node_cases,
)

rand = RandomArrays(0)
# Convolutions sum up to a few hundred float32 products of N(0, 1) values in another order than
# onnxruntime's: absolute differences reach ~1e-5 on outputs of magnitude ~10.
CONV_ATOL = 3e-5


# ---------------------------------------------------------------------- Conv
CONV_CASES = [
    # (x shape, w shape, attrs)
    ((1, 3, 8, 8), (4, 3, 3, 3), {}),
    ((2, 3, 9, 7), (5, 3, 3, 3), {"pads": [1, 1, 1, 1]}),
    ((1, 4, 11, 10), (6, 4, 3, 2), {"strides": [2, 3], "pads": [1, 0, 2, 1]}),
    ((1, 2, 12, 12), (3, 2, 3, 3), {"dilations": [2, 3], "pads": [2, 1, 0, 3]}),
    ((2, 6, 9, 9), (4, 3, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}),
    ((1, 4, 10, 10), (8, 1, 3, 3), {"group": 4, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 8, 10, 9), (8, 1, 5, 5), {"group": 8, "pads": [2, 2, 2, 2], "dilations": [1, 2]}),
    ((1, 3, 9, 10), (4, 3, 3, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
    ((1, 3, 9, 10), (4, 3, 4, 4), {"auto_pad": "SAME_LOWER", "strides": [2, 3]}),
    ((1, 3, 9, 10), (4, 3, 4, 2), {"auto_pad": "VALID", "strides": [2, 1]}),
    ((1, 3, 7, 7), (4, 3, 1, 1), {"kernel_shape": [1, 1]}),
    ((1, 16, 14, 14), (32, 16, 3, 3), {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("xs, ws, attrs", CONV_CASES)
def test_conv2d(xs: tuple, ws: tuple, attrs: dict, bias: bool) -> None:
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[0]) if bias else None
    model = make_model("Conv", {"x": x, "w": w, "b": b}, attrs, consts=("w", "b"))
    check_against_ort(model, {"x": x}, atol=CONV_ATOL)


CONV1D_CASES = [
    ((2, 3, 16), (4, 3, 3), {}),
    ((1, 4, 15), (6, 2, 5), {"group": 2, "strides": [2], "pads": [2, 1], "dilations": [2]}),
    ((1, 3, 10), (2, 3, 4), {"auto_pad": "SAME_UPPER", "strides": [3]}),
    ((1, 3, 10), (2, 3, 4), {"auto_pad": "SAME_LOWER"}),
]


@pytest.mark.parametrize("xs, ws, attrs", CONV1D_CASES)
def test_conv1d(xs: tuple, ws: tuple, attrs: dict) -> None:
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    model = make_model("Conv", {"x": x, "w": w, "b": b}, attrs, consts=("w", "b"))
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("opset", [1, 11, 22])
def test_conv_runtime_weight_and_opsets(opset: int) -> None:
    x, w, b = rand(1, 2, 6, 6), rand(3, 2, 3, 3), rand(3)
    model = make_model("Conv", {"x": x, "w": w, "b": b}, {"pads": [1, 1, 1, 1]}, opset=opset)
    check_against_ort(model, {"x": x, "w": w, "b": b})


def test_conv_float64() -> None:
    # onnxruntime has no float64 Conv kernel: ONNX's reference evaluator is the oracle here.
    x, w = rand(1, 3, 7, 7, dtype="float64"), rand(2, 3, 3, 3, dtype="float64")
    model = make_model("Conv", {"x": x, "w": w}, {"strides": [2, 2], "pads": [1, 0, 1, 2]},
                       consts=("w",))
    (got,) = check_against_reference(model, {"x": x}, rtol=1e-12, atol=1e-12)
    assert got.dtype == np.float64


@pytest.mark.parametrize("op, ws, attrs", [
    ("Conv", (6, 2, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}),
    ("ConvTranspose", (4, 3, 3, 3), {"strides": [2, 2], "pads": [1, 1, 0, 0]}),
])
def test_conv_float16(op: str, ws: tuple, attrs: dict) -> None:
    x, w = rand(1, 4, 9, 9, dtype="float16"), rand(*ws, dtype="float16")
    model = make_model(op, {"x": x, "w": w}, attrs, consts=("w",))
    check_against_ort(model, {"x": x}, rtol=2e-3, atol=1e-2)  # float16 rounding


def test_conv3d_is_unsupported() -> None:
    x, w = rand(1, 2, 4, 4, 4), rand(3, 2, 2, 2, 2)
    model = make_model("Conv", {"x": x, "w": w}, consts=("w",))
    with pytest.raises(UnsupportedError, match="3-D"):
        from_onnx(model)


def test_conv_kernel_shape_mismatch_is_an_error() -> None:
    x, w = rand(1, 2, 6, 6), rand(3, 2, 3, 3)
    model = make_model("Conv", {"x": x, "w": w}, {"kernel_shape": [2, 2]}, consts=("w",))
    with pytest.raises(EdgeccError, match="kernel_shape"):
        from_onnx(model)


# ---------------------------------------------------------------------- ConvTranspose
CONVT_CASES = [
    ((1, 2, 5, 6), (2, 3, 3, 3), {}),
    ((2, 2, 5, 6), (2, 3, 3, 3), {"strides": [2, 2], "output_padding": [1, 1]}),
    ((1, 2, 5, 6), (2, 3, 3, 3), {"strides": [2, 3], "pads": [1, 0, 0, 1]}),
    ((1, 2, 5, 6), (2, 3, 3, 2), {"strides": [2, 2], "output_shape": [10, 11]}),
    ((1, 2, 5, 6), (2, 3, 3, 2), {"strides": [2, 2], "output_shape": [12, 13]}),
    ((1, 2, 5, 6), (2, 3, 3, 3), {"strides": [2, 2], "output_shape": [10, 11],
                                  "auto_pad": "SAME_UPPER"}),
    ((1, 2, 5, 6), (2, 3, 3, 3), {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 2, 5, 6), (2, 3, 3, 3), {"strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ((1, 2, 5, 6), (2, 3, 4, 4), {"strides": [3, 3], "auto_pad": "SAME_LOWER"}),
    ((1, 2, 5, 6), (2, 3, 3, 3), {"auto_pad": "VALID", "strides": [2, 1]}),
    ((1, 2, 5, 5), (2, 3, 3, 3), {"dilations": [2, 1], "pads": [1, 1, 1, 1]}),
    ((1, 4, 5, 5), (4, 2, 3, 3), {"group": 2, "strides": [2, 2]}),
    ((1, 6, 4, 5), (6, 1, 4, 4), {"group": 6, "strides": [2, 2], "pads": [1, 1, 1, 1]}),
]


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("xs, ws, attrs", CONVT_CASES)
def test_conv2d_transpose(xs: tuple, ws: tuple, attrs: dict, bias: bool) -> None:
    x, w = rand(*xs), rand(*ws)
    groups = attrs.get("group", 1)
    b = rand(ws[1] * groups) if bias else None
    model = make_model("ConvTranspose", {"x": x, "w": w, "b": b}, attrs, consts=("w", "b"))
    check_against_ort(model, {"x": x}, atol=CONV_ATOL)


@pytest.mark.parametrize("attrs", [
    {},
    {"strides": [2], "output_padding": [1], "pads": [1, 0]},
    {"strides": [3], "output_shape": [20]},
    {"strides": [2], "auto_pad": "SAME_UPPER", "dilations": [2]},
])
def test_conv_transpose_1d(attrs: dict) -> None:
    x, w, b = rand(1, 3, 7), rand(3, 2, 3), rand(2)
    model = make_model("ConvTranspose", {"x": x, "w": w, "b": b}, attrs, consts=("w", "b"))
    check_against_ort(model, {"x": x})


def test_conv_transpose_3d_is_unsupported() -> None:
    x, w = rand(1, 2, 3, 3, 3), rand(2, 3, 2, 2, 2)
    model = make_model("ConvTranspose", {"x": x, "w": w}, consts=("w",))
    with pytest.raises(UnsupportedError, match="3-D"):
        from_onnx(model)


# ---------------------------------------------------------------------- type rules and MACs
def _conv_type(x: TensorType, w: TensorType, **attrs: Any) -> Any:
    return infer_type("nn.conv2d", [x, w], normalize_attrs("nn.conv2d", attrs))


def test_conv2d_type_rule() -> None:
    t = _conv_type(TensorType((1, 3, 224, 224), layout="NCHW"), TensorType((64, 3, 7, 7)),
                   strides=(2, 2), pads=(3, 3, 3, 3))
    assert t == TensorType((1, 64, 112, 112), "float32", "NCHW")
    with pytest.raises(TypeInferenceError, match="groups"):
        _conv_type(TensorType((1, 4, 8, 8)), TensorType((4, 3, 3, 3)))
    with pytest.raises(TypeInferenceError, match="dtype"):
        _conv_type(TensorType((1, 3, 8, 8)), TensorType((4, 3, 3, 3), "float64"))
    with pytest.raises(TypeInferenceError, match="does not fit"):
        _conv_type(TensorType((1, 3, 2, 2)), TensorType((4, 3, 3, 3)))
    with pytest.raises(EdgeccError, match="NHWC"):
        _conv_type(TensorType((1, 3, 8, 8)), TensorType((4, 3, 3, 3)), layout="NHWC")


def test_conv_macs() -> None:
    x, w = TensorType((2, 8, 16, 16)), TensorType((12, 4, 3, 3))
    attrs = normalize_attrs("nn.conv2d", {"groups": 2, "pads": (1, 1, 1, 1)})
    out = infer_type("nn.conv2d", [x, w], attrs)
    macs = get_op("nn.conv2d").macs
    assert macs is not None
    assert macs([x, w], out, attrs) == 2 * 12 * 16 * 16 * 4 * 3 * 3
    xt, wt = TensorType((1, 4, 5, 5)), TensorType((4, 3, 2, 2))
    attrs = normalize_attrs("nn.conv2d_transpose", {"groups": 2, "strides": (2, 2)})
    out = infer_type("nn.conv2d_transpose", [xt, wt], attrs)
    assert out.shape == (1, 6, 10, 10)
    macs_t = get_op("nn.conv2d_transpose").macs
    assert macs_t is not None
    assert macs_t([xt, wt], out, attrs) == 1 * 4 * 5 * 5 * 3 * 2 * 2


def test_conv_reference_handles_a_resnet_stem_quickly() -> None:
    # The interpreter runs whole ImageNet CNNs: the reference must be BLAS-backed, not loops.
    ref = get_op("nn.conv2d").ref
    assert ref is not None
    x, w = rand(1, 3, 224, 224), rand(64, 3, 7, 7)
    y = ref(x, w, strides=(2, 2), pads=(3, 3, 3, 3), dilations=(1, 1), groups=1,
            layout="NCHW")
    assert y.shape == (1, 64, 112, 112) and y.dtype == np.float32
    # Spot-check one output pixel against a direct sum.
    xp = np.pad(x, ((0, 0), (0, 0), (3, 3), (3, 3)))
    direct = (xp[0, :, 2 * 50:2 * 50 + 7, 2 * 60:2 * 60 + 7] * w[5]).sum()
    np.testing.assert_allclose(y[0, 5, 50, 60], direct, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------- blocked weights
BLOCKED_CASES = [
    # (x shape, OIHW weight shape, ic block, oc block, attrs)
    ((1, 8, 9, 9), (16, 8, 3, 3), 4, 8, {"pads": (1, 1, 1, 1)}),
    ((2, 3, 11, 10), (8, 3, 7, 7), 3, 4, {"strides": (2, 2), "pads": (3, 3, 3, 3)}),
    ((1, 6, 7, 7), (4, 6, 1, 1), 6, 2, {"strides": (2, 2)}),
    ((1, 8, 10, 10), (8, 4, 3, 3), 2, 4, {"groups": 2, "dilations": (2, 1)}),
    ((1, 8, 10, 9), (8, 1, 3, 3), 1, 4, {"groups": 8, "pads": (1, 1, 1, 1), "strides": (2, 1)}),
]


@pytest.mark.parametrize("xs, ws, ib, ob, attrs", BLOCKED_CASES)
def test_conv2d_blocked_weights(xs: tuple, ws: tuple, ib: int, ob: int, attrs: dict) -> None:
    op = get_op("nn.conv2d")
    assert op.ref is not None and op.macs is not None
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    packed = pack_kernel(w, ib, ob)
    assert packed.shape == (ws[0] // ob, ws[1] // ib, ws[2], ws[3], ib, ob)
    assert packed[1, 0, 0, 0, ib - 1, 1] == w[ob + 1, ib - 1, 0, 0]
    np.testing.assert_array_equal(unpack_kernel(packed), w)
    plain = normalize_attrs("nn.conv2d", attrs)
    blocked = normalize_attrs("nn.conv2d", {**attrs, "kernel_layout": f"OIHW{ib}i{ob}o"})
    xt, wt, pt = TensorType(xs), TensorType(ws), TensorType(packed.shape)
    out = infer_type("nn.conv2d", [xt, wt, TensorType((ws[0],))], plain)
    assert infer_type("nn.conv2d", [xt, pt, TensorType((ws[0],))], blocked) == out
    assert op.macs([xt, pt], out, blocked) == op.macs([xt, wt], out, plain)
    np.testing.assert_allclose(op.ref(x, packed, b, **blocked), op.ref(x, w, b, **plain),
                               rtol=1e-6, atol=1e-6)


def test_conv2d_blocked_weights_type_errors() -> None:
    x = TensorType((1, 8, 8, 8))
    with pytest.raises(TypeInferenceError, match="kernel_layout"):  # 4-D weight, blocked layout
        _conv_type(x, TensorType((16, 8, 3, 3)), kernel_layout="OIHW8i16o")
    with pytest.raises(TypeInferenceError, match="kernel_layout"):  # blocks disagree
        _conv_type(x, TensorType((1, 1, 3, 3, 8, 16)), kernel_layout="OIHW4i16o")
    with pytest.raises(TypeInferenceError, match="groups"):  # 2 * 2 input channels != 8
        _conv_type(x, TensorType((1, 1, 3, 3, 4, 16)), kernel_layout="OIHW4i16o")
    with pytest.raises(UnsupportedError, match="kernel_layout"):
        _conv_type(x, TensorType((16, 8, 3, 3)), kernel_layout="HWIO")
    t = _conv_type(x, TensorType((2, 2, 3, 3, 4, 8)), kernel_layout="OIHW4i8o", pads=(1, 1, 1, 1))
    assert t == TensorType((1, 16, 8, 8), "float32")


# ---------------------------------------------------------------------- ONNX node cases
CASES = node_cases({"Conv", "ConvTranspose"})
UNSUPPORTED = {
    "test_convtranspose_3d": "3-D transposed convolution is not implemented",
}


def test_node_cases_found() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name], backend=InterpreterBackend,
                    fails_with="^UnsupportedError: " if name in UNSUPPORTED else None)
