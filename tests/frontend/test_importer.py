"""The ONNX importer: unsupported-op listing, input shapes, external data, bad files, naming."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgecc.errors import (
    InputError,
    ModelLoadError,
    ShapeError,
    UnsupportedError,
    UnsupportedOpsError,
)
from edgecc.frontend.onnx import from_onnx, unsupported_ops
from edgecc.frontend.onnx.registry import find_converter
from edgecc.interpreter import run


def _model(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "m", inputs, outputs, list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=10)


def _vi(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def test_every_unsupported_op_listed_at_once():
    m = _model([helper.make_node("Relu", ["x"], ["a"], name="r"),
                helper.make_node("LSTM", ["a"], ["b"], name="lstm1"),
                helper.make_node("LSTM", ["b"], ["c"], name="lstm2"),
                helper.make_node("FancyOp", ["c"], ["y"], domain="my.domain", name="f")],
               [_vi("x", [1, 4])], [_vi("y", None)])
    m.opset_import.append(helper.make_opsetid("my.domain", 1))
    with pytest.raises(UnsupportedOpsError) as info:
        from_onnx(m)
    msg = str(info.value)
    assert "2 unsupported operator(s)" in msg
    assert "ai.onnx::LSTM (opset 17) at nodes 'lstm1', 'lstm2'" in msg
    assert "my.domain::FancyOp (opset 1) at nodes 'f'" in msg
    assert len(unsupported_ops(m)) == 2


def test_opset_versioning_picks_the_right_converter():
    # Softmax changed meaning at opset 13; both converters exist and differ
    assert find_converter("", "Softmax", 11) is not find_converter("", "Softmax", 13)
    assert find_converter("", "Softmax", 12) is find_converter("", "Softmax", 11)
    assert find_converter("", "NoSuchOp", 17) is None


def test_dynamic_dims_need_shapes():
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [_vi("x", ["batch", 3])],
               [_vi("y", None)])
    with pytest.raises(ShapeError, match="dimension 0 is dynamic .'batch'."):
        from_onnx(m)
    g = from_onnx(m, {"x": (5, 3)})
    assert g.inputs[0].shape == (5, 3) and g.outputs[0].shape == (5, 3)
    with pytest.raises(ShapeError, match="does not fit"):
        from_onnx(m, {"x": (5, 4)})
    with pytest.raises(InputError, match="model's inputs are \\['x'\\]"):
        from_onnx(m, {"z": (1,)})


def test_initializers_listed_as_inputs_are_constants():
    w = numpy_helper.from_array(np.ones((3,), np.float32), "w")
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], [_vi("x", [3]), _vi("w", [3])],
               [_vi("y", None)], [w])
    g = from_onnx(m)
    assert [n.name for n in g.inputs] == ["x"]
    assert run(g, {"x": np.zeros(3, np.float32)})["y"].tolist() == [1, 1, 1]


def test_external_data(tmp_path):
    w = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    m = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_vi("x", [1, 64])],
               [_vi("y", None)], [numpy_helper.from_array(w, "w")])
    path = tmp_path / "ext.onnx"
    onnx.save_model(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.data", size_threshold=0)
    assert (tmp_path / "ext.data").stat().st_size == w.nbytes
    g = from_onnx(path)
    x = np.ones((1, 64), np.float32)
    np.testing.assert_allclose(run(g, {"x": x})["y"], x @ w, rtol=1e-5)


def test_missing_external_data(tmp_path):
    w = np.zeros((64, 64), np.float32)
    m = _model([helper.make_node("MatMul", ["x", "w"], ["y"])], [_vi("x", [1, 64])],
               [_vi("y", None)], [numpy_helper.from_array(w, "w")])
    path = tmp_path / "ext.onnx"
    onnx.save_model(m, str(path), save_as_external_data=True, location="ext.data",
                    size_threshold=0)
    (tmp_path / "ext.data").unlink()
    with pytest.raises(ModelLoadError, match="ext.onnx"):
        from_onnx(path)


@pytest.mark.parametrize("content", [b"", b"garbage" * 100])
def test_malformed_files(tmp_path, content):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError):
        from_onnx(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        from_onnx(tmp_path / "nope.onnx")


def test_dynamic_shape_input_to_reshape_is_named():
    m = _model([helper.make_node("Reshape", ["x", "s"], ["y"], name="the_reshape")],
               [_vi("x", [2, 3]), _vi("s", [2], TensorProto.INT64)], [_vi("y", None)])
    with pytest.raises(UnsupportedError, match="'the_reshape' \\(Reshape\\).*compile-time"):
        from_onnx(m)


def test_output_names_are_kept_and_may_repeat_a_node():
    m = _model([helper.make_node("Identity", ["x"], ["y1"]),
                helper.make_node("Identity", ["x"], ["y2"])],
               [_vi("x", [2])], [_vi("y1", None), _vi("y2", None), _vi("x", None)])
    g = from_onnx(m)
    assert g.output_names == ["y1", "y2", "x"]
    from edgecc.transform import PassContext, run_pipeline

    run_pipeline(g, "simplify,dce", PassContext())
    out = run(g, {"x": np.arange(2, dtype=np.float32)})
    assert list(out) == ["y1", "y2", "x"] and all(v.tolist() == [0, 1] for v in out.values())


def test_unsupported_attribute_is_reported():
    m = _model([helper.make_node("Relu", ["x"], ["y"], name="r", bogus=3)],
               [_vi("x", [2])], [_vi("y", None)])
    with pytest.raises(UnsupportedError, match="'r' \\(Relu\\).*bogus"):
        from_onnx(m)
