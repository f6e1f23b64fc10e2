"""nn normalization ops and dropout: ONNX BatchNormalization, InstanceNormalization,
LayerNormalization, LRN and Dropout against onnxruntime and ONNX's node cases."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgecc.errors import EdgeccError, TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx.importer import from_onnx
from edgecc.interpreter import run
from edgecc.ir.types import TensorType
from edgecc.ops import get_op, infer_type, normalize_attrs
from edgecc.testing.single_op import (
    InterpreterBackend,
    RandomArrays,
    check_against_ort,
    check_against_reference,
    check_node_case,
    make_model,
    node_cases,
)

RNG = np.random.default_rng(2)
rand = RandomArrays(RNG)


# ---------------------------------------------------------------------- BatchNormalization
def _bn_inputs(shape: tuple, dtype: str = "float32") -> dict[str, np.ndarray]:
    c = shape[1]
    return {"x": rand(*shape, dtype=dtype), "scale": rand(c, dtype=dtype),
            "bias": rand(c, dtype=dtype), "mean": rand(c, dtype=dtype),
            "var": RNG.uniform(0.5, 2.0, c).astype(dtype)}


PARAMS = ("scale", "bias", "mean", "var")


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5), (2, 3, 4, 5), (1, 2, 3, 4, 5)])
@pytest.mark.parametrize("opset", [6, 7, 9, 14, 15])
def test_batch_norm(shape: tuple, opset: int) -> None:
    ins = _bn_inputs(shape)
    attrs = {"epsilon": 1e-3}
    if opset < 7:
        attrs["is_test"] = 1
    model = make_model("BatchNormalization", ins, attrs, opset=opset, consts=PARAMS)
    if opset < 7:  # onnxruntime implements BatchNormalization from opset 7
        check_against_reference(model, {"x": ins["x"]})
    else:
        check_against_ort(model, {"x": ins["x"]})


def test_batch_norm_runtime_params_float64() -> None:
    ins = _bn_inputs((2, 4, 3, 3), "float64")
    model = make_model("BatchNormalization", ins, opset=15)
    check_against_ort(model, ins, rtol=1e-12, atol=1e-12)


def test_norms_float16() -> None:
    ins = _bn_inputs((2, 4, 3, 3), "float16")
    model = make_model("BatchNormalization", ins, consts=PARAMS)
    check_against_ort(model, {"x": ins["x"]}, rtol=2e-3, atol=2e-3)  # float16 rounding
    ins = {"x": ins["x"], "scale": ins["scale"], "bias": ins["bias"]}
    model = make_model("InstanceNormalization", ins, consts=("scale", "bias"))
    check_against_ort(model, {"x": ins["x"]}, rtol=2e-3, atol=2e-3)


def test_batch_norm_training_is_unsupported() -> None:
    ins = _bn_inputs((2, 3, 4, 4))
    model = make_model("BatchNormalization", ins, {"training_mode": 1}, consts=PARAMS)
    with pytest.raises(UnsupportedError, match="training_mode"):
        from_onnx(model)
    model = make_model("BatchNormalization", ins, opset=9, consts=PARAMS, outputs=3)
    with pytest.raises(UnsupportedError, match="output 1"):
        from_onnx(model)


def test_batch_norm_spatial_0_is_unsupported() -> None:
    ins = _bn_inputs((2, 3, 4, 4))
    model = make_model("BatchNormalization", ins, {"spatial": 0}, opset=7, consts=PARAMS)
    with pytest.raises(UnsupportedError, match="spatial"):
        from_onnx(model)


# ---------------------------------------------------------------------- InstanceNormalization
@pytest.mark.parametrize("shape", [(2, 3, 7), (2, 3, 4, 5), (1, 2, 3, 4, 2)])
@pytest.mark.parametrize("epsilon", [1e-5, 0.1])
def test_instance_norm(shape: tuple, epsilon: float) -> None:
    x, scale, bias = rand(*shape), rand(shape[1]), rand(shape[1])
    model = make_model("InstanceNormalization", {"x": x, "scale": scale, "bias": bias},
                       {"epsilon": epsilon}, consts=("scale", "bias"))
    check_against_ort(model, {"x": x}, atol=1e-5)


# ---------------------------------------------------------------------- LayerNormalization
@pytest.mark.parametrize("shape, axis", [
    ((2, 5, 8), -1), ((2, 5, 8), 1), ((2, 5, 8), -2), ((3, 4), 0), ((2, 3, 4, 5), 2),
])
@pytest.mark.parametrize("with_bias", [True, False])
def test_layer_norm(shape: tuple, axis: int, with_bias: bool) -> None:
    x = rand(*shape)
    inner = shape[axis:]
    ins = {"x": x, "scale": rand(*inner), "bias": rand(*inner) if with_bias else None}
    model = make_model("LayerNormalization", ins, {"axis": axis, "epsilon": 1e-4},
                       consts=("scale", "bias"))
    check_against_ort(model, {"x": x}, atol=1e-5)


def test_layer_norm_broadcast_scale() -> None:
    x = rand(2, 3, 4)
    ins = {"x": x, "scale": rand(1, 4), "bias": rand(4)}
    model = make_model("LayerNormalization", ins, {"axis": 1}, consts=("scale", "bias"))
    check_against_ort(model, {"x": x}, atol=1e-5)


def test_layer_norm_float16() -> None:
    x = rand(2, 6, 16, dtype="float16")
    ins = {"x": x, "scale": rand(16, dtype="float16"), "bias": rand(16, dtype="float16")}
    model = make_model("LayerNormalization", ins, consts=("scale", "bias"))
    check_against_ort(model, {"x": x}, rtol=2e-3, atol=2e-3)  # float16 rounding


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm_mean_and_inv_std_outputs(axis: int) -> None:
    x = rand(2, 3, 4)
    scale = rand(*x.shape[axis:])
    model = make_model("LayerNormalization", {"x": x, "scale": scale}, {"axis": axis},
                       consts=("scale",), outputs=3)
    check_against_ort(model, {"x": x})


# ---------------------------------------------------------------------- LRN
@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("opset", [1, 13])
def test_lrn(size: int, opset: int) -> None:
    x = rand(2, 7, 4, 5)
    model = make_model("LRN", {"x": x}, {"size": size, "alpha": 0.02, "beta": 0.6, "bias": 2.0},
                       opset=opset)
    if size % 2:
        check_against_ort(model, {"x": x})
        return
    # onnxruntime only takes odd sizes (and ONNX's reference evaluator sums the wrong axis):
    # check even ones against the spec's formula, channel by channel.
    got = run(from_onnx(model), {"x": x})["y0"]
    lo, hi = (size - 1) // 2, -(-(size - 1) // 2)
    for c in range(x.shape[1]):
        sq = (x[:, max(0, c - lo):min(x.shape[1], c + hi + 1)] ** 2).sum(axis=1)
        want = x[:, c] / (2.0 + 0.02 / size * sq) ** 0.6
        np.testing.assert_allclose(got[:, c], want, rtol=1e-5, atol=1e-6)


def test_lrn_defaults() -> None:
    x = rand(1, 4, 3, 3)
    check_against_ort(make_model("LRN", {"x": x}, {"size": 3}), {"x": x})


# ---------------------------------------------------------------------- Dropout
@pytest.mark.parametrize("opset, attrs", [(6, {"is_test": 1, "ratio": 0.3}), (7, {}),
                                          (10, {"ratio": 0.2}), (12, {"seed": 3}), (13, {})])
def test_dropout(opset: int, attrs: dict) -> None:
    x = rand(2, 3, 4)
    model = make_model("Dropout", {"x": x}, attrs, opset=opset)
    if opset < 7:  # no onnxruntime kernel: inference dropout is the identity
        np.testing.assert_array_equal(run(from_onnx(model), {"x": x})["y0"], x)
    else:
        check_against_ort(model, {"x": x})


def test_dropout_inputs() -> None:
    x = rand(2, 3)
    ins = {"x": x, "ratio": np.array(0.25, np.float32), "training_mode": np.array(False)}
    model = make_model("Dropout", ins, opset=13, consts=("ratio", "training_mode"))
    check_against_ort(model, {"x": x})
    graph = from_onnx(model)
    (node,) = [n for n in graph.ops() if n.op == "nn.dropout"]
    assert node.attrs["ratio"] == 0.25


def test_dropout_training_and_mask_are_unsupported() -> None:
    x = rand(2, 3)
    ins = {"x": x, "ratio": np.array(0.25, np.float32), "training_mode": np.array(True)}
    model = make_model("Dropout", ins, opset=13, consts=("ratio", "training_mode"))
    with pytest.raises(UnsupportedError, match="training_mode"):
        from_onnx(model)
    ins["training_mode"] = np.array(False)
    model = make_model("Dropout", ins, opset=13, consts=("ratio",))
    with pytest.raises(UnsupportedError, match="training_mode"):
        from_onnx(model)  # a run-time training_mode



def test_dropout_mask_is_all_true() -> None:
    x = rand(2, 3)
    check_against_ort(make_model("Dropout", {"x": x}, opset=13, outputs=2), {"x": x})
    with pytest.raises(UnsupportedError, match="output 1"):  # unspecified before opset 12
        from_onnx(make_model("Dropout", {"x": x}, opset=10, outputs=2))


# ---------------------------------------------------------------------- type rules
def test_norm_type_rules() -> None:
    x = TensorType((2, 3, 4, 4), layout="NCHW")
    c = TensorType((3,))
    attrs = normalize_attrs("nn.batch_norm", {})
    assert infer_type("nn.batch_norm", [x, c, c, c, c], attrs) == x
    with pytest.raises(TypeInferenceError, match="shape"):
        infer_type("nn.batch_norm", [x, TensorType((4,)), c, c, c], attrs)
    with pytest.raises(TypeInferenceError, match="floating"):
        infer_type("nn.instance_norm", [TensorType((2, 3, 4), "int32"), c, c],
                   normalize_attrs("nn.instance_norm", {}))
    with pytest.raises(TypeInferenceError, match="broadcast"):
        infer_type("nn.layer_norm", [TensorType((2, 3, 4)), TensorType((3,))],
                   normalize_attrs("nn.layer_norm", {"axis": 2}))
    with pytest.raises(TypeInferenceError, match="axis"):
        infer_type("nn.layer_norm", [TensorType((2, 3, 4)), TensorType((4,))],
                   normalize_attrs("nn.layer_norm", {"axis": -1}))
    with pytest.raises(EdgeccError, match="size"):
        normalize_attrs("nn.lrn", {})
    assert get_op("nn.dropout").ref is not None


# ---------------------------------------------------------------------- ONNX node cases
CASES = node_cases({"BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN",
                    "Dropout"})
UNSUPPORTED = {
    "test_batchnorm_example_training_mode": "training_mode=1",
    "test_batchnorm_epsilon_training_mode": "training_mode=1",
    "test_training_dropout": "training_mode=True",
    "test_training_dropout_default": "training_mode=True",
    "test_training_dropout_default_mask": "training_mode=True",
    "test_training_dropout_mask": "training_mode=True",
    "test_training_dropout_zero_ratio": "training_mode=True",
    "test_training_dropout_zero_ratio_mask": "training_mode=True",
}
LAYER_NORM_CASES = sorted(n for n in CASES if n.startswith("test_layer_normalization"))


def test_node_cases_found() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_node_case(name: str) -> None:
    check_node_case(CASES[name], backend=InterpreterBackend,
                    fails_with="^UnsupportedError: " if name in UNSUPPORTED else None)


@pytest.mark.parametrize("name", LAYER_NORM_CASES)
def test_onnx_layer_norm_case_y_only(name: str) -> None:
    case = CASES[name]
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    node = model.graph.node[0]
    node.output[1:] = ["", ""]
    del model.graph.output[1:]
    names = [i.name for i in model.graph.input]
    for inputs, outputs in case.data_sets:
        got = run(from_onnx(model), dict(zip(names, inputs)))
        np.testing.assert_allclose(got[node.output[0]], outputs[0], rtol=case.rtol, atol=1e-6)
