"""Shape arithmetic and constant-building ONNX ops fold to constants at import."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgecc.errors import UnsupportedError
from edgecc.frontend.onnx import from_onnx
from edgecc.frontend.onnx.context import FOLD_MAX_ELEMENTS
from edgecc.interpreter import run
from edgecc.ir.graph import Graph

RNG = np.random.default_rng(2)


def make(nodes: list[onnx.NodeProto], feeds: dict[str, np.ndarray], outputs: list[str],
         opset: int = 17, consts: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
              for k, v in feeds.items()]
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in (consts or {}).items()]
    graph = helper.make_graph(nodes, "g", inputs,
                              [helper.make_empty_tensor_value_info(o) for o in outputs],
                              initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=10)


def compare(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> Graph:
    graph = from_onnx(model)
    got = run(graph, feeds)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, feeds)
    for out, w in zip(model.graph.output, want):
        g = got[out.name]
        assert g.shape == w.shape and g.dtype == w.dtype, (out.name, g, w)
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
    return graph


def ops(graph: Graph) -> list[str]:
    return [n.op for n in graph.ops()]


def i64(*v: int) -> np.ndarray:
    return np.array(v, np.int64)


# ---------------------------------------------------------------------- shape chains
def test_shape_gather_unsqueeze_concat_reshape_folds() -> None:
    """x -> Shape -> Gather(0) -> Unsqueeze -> Concat([b, -1]) -> Reshape(x): one static reshape."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["b"], axis=0),
        helper.make_node("Unsqueeze", ["b", "ax0"], ["b1"]),
        helper.make_node("Concat", ["b1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ]
    consts = {"zero": np.array(0, np.int64), "ax0": i64(0), "minus1": i64(-1)}
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    graph = compare(make(nodes, {"x": x}, ["y"], 13, consts), {"x": x})
    assert ops(graph) == ["reshape"]
    (reshape,) = graph.ops()
    assert reshape.attrs["newshape"] == (3, 20)
    assert reshape.inputs == (graph.inputs[0],)


def test_shape_arithmetic_with_cast_mul_div_add_folds() -> None:
    """Shape -> Slice -> Cast -> Mul/Div/Add on int64 scalars, as exporters write for heads."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Slice", ["s", "st", "en"], ["hw"]),               # [H, W]
        helper.make_node("Gather", ["s", "one"], ["c"]),                   # C scalar
        helper.make_node("Cast", ["c"], ["cf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["cf", "half"], ["ch"]),                   # C / 2 as float
        helper.make_node("Cast", ["ch"], ["ci"], to=TensorProto.INT64),
        helper.make_node("Div", ["c", "ci"], ["two"]),                     # 2
        helper.make_node("ReduceProd", ["hw"], ["area"], keepdims=1),      # [H*W]
        helper.make_node("Add", ["area", "zero"], ["area2"]),
        helper.make_node("Unsqueeze", ["two", "ax0"], ["two1"]),
        helper.make_node("Unsqueeze", ["ci", "ax0"], ["ci1"]),
        helper.make_node("Concat", ["n1", "two1", "ci1", "area2"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
        helper.make_node("Transpose", ["y"], ["z"], perm=[0, 2, 1, 3]),
    ]
    consts = {"st": i64(2), "en": i64(4), "one": np.array(1, np.int64),
              "half": np.array(0.5, np.float32), "zero": i64(0), "ax0": i64(0),
              "n1": i64(-1)}
    x = RNG.standard_normal((2, 6, 3, 4)).astype(np.float32)
    graph = compare(make(nodes, {"x": x}, ["z"], 13, consts), {"x": x})
    assert ops(graph) == ["reshape", "transpose"]
    assert next(graph.ops()).attrs["newshape"] == (2, 2, 3, 12)


def test_shape_start_end_and_size() -> None:
    nodes = [helper.make_node("Shape", ["x"], ["a"], start=1, end=-1),
             helper.make_node("Shape", ["x"], ["b"], start=-2),
             helper.make_node("Shape", ["x"], ["c"], start=-10, end=10),
             helper.make_node("Shape", ["x"], ["d"], start=3, end=1),
             helper.make_node("Size", ["x"], ["n"])]
    x = np.zeros((2, 3, 4, 5), np.float32)
    graph = compare(make(nodes, {"x": x}, ["a", "b", "c", "d", "n"], 15), {"x": x})
    assert ops(graph) == []


def test_shape_of_opset1() -> None:
    x = np.zeros((2, 3), np.float32)
    graph = compare(make([helper.make_node("Shape", ["x"], ["s"])], {"x": x}, ["s"], 7),
                    {"x": x})
    np.testing.assert_array_equal(graph.outputs[0].value, [2, 3])


# ---------------------------------------------------------------------- Constant
@pytest.mark.parametrize("attrs", [
    {"value_float": 1.5}, {"value_floats": [1.0, 2.5]}, {"value_int": 7},
    {"value_ints": [3, -4, 5]},
    {"value": numpy_helper.from_array(np.arange(6, dtype=np.int32).reshape(2, 3))},
    {"value": numpy_helper.from_array(np.array([1.5, -2], np.float16))},
    {"value": numpy_helper.from_array(np.array(True))},
])
def test_constant(attrs: dict[str, Any]) -> None:
    graph = compare(make([helper.make_node("Constant", [], ["c"], **attrs)], {}, ["c"], 13), {})
    assert ops(graph) == []


def test_constant_opset1() -> None:
    value = np.arange(4, dtype=np.float32)
    node = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(value))
    np.testing.assert_array_equal(run(from_onnx(make([node], {}, ["c"], 7)), {})["c"], value)


@pytest.mark.parametrize("attrs", [{"value_string": "a"}, {"value_strings": ["a", "b"]},
                                   {"value": helper.make_tensor("t", TensorProto.STRING, [1],
                                                                [b"x"])}])
def test_constant_strings_unsupported(attrs: dict[str, Any]) -> None:
    model = make([helper.make_node("Constant", [], ["c"], **attrs)], {}, ["c"], 13)
    with pytest.raises(UnsupportedError):
        from_onnx(model)


# ---------------------------------------------------------------------- ConstantOfShape
@pytest.mark.parametrize(("shape", "value"), [
    ((2, 3), None), ((4,), np.array([7], np.int64)), ((), np.array([2.5], np.float32)),
    ((2, 0), None), ((1, 3, 2), np.array([1], np.int32)),
])
def test_constant_of_shape(shape: tuple, value: np.ndarray | None) -> None:
    kw = {} if value is None else {"value": numpy_helper.from_array(value)}
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"], **kw)]
    graph = compare(make(nodes, {}, ["c"], 13, {"s": np.array(shape, np.int64)}), {})
    assert ops(graph) == []


def test_constant_of_shape_large_weight_is_a_constant() -> None:
    """Light models build weights with ConstantOfShape: they must not stay as ops."""
    shape = (64, 64, 3, 3)
    assert np.prod(shape) > FOLD_MAX_ELEMENTS
    nodes = [helper.make_node("Shape", ["w0"], ["s"]),
             helper.make_node("ConstantOfShape", ["s"], ["w"],
                              value=numpy_helper.from_array(np.array([0.01], np.float32))),
             helper.make_node("Add", ["x", "w"], ["y"])]
    x = RNG.standard_normal(shape).astype(np.float32)
    model = make(nodes, {"x": x}, ["y"], 13, {"w0": np.zeros(shape, np.float32)})
    graph = compare(model, {"x": x})
    assert ops(graph) == ["add"]
    w = graph.node(next(graph.ops()).inputs[1].name)
    assert w.is_const and w.value.shape == shape


def test_constant_of_shape_of_runtime_shape_is_unsupported() -> None:
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"])]
    with pytest.raises(UnsupportedError, match="'input' must be a compile-time constant"):
        from_onnx(make(nodes, {"s": i64(2, 3)}, ["c"], 13))


# ---------------------------------------------------------------------- Range, EyeLike
@pytest.mark.parametrize(("start", "limit", "delta", "dtype"), [
    (0, 10, 3, np.int64), (10, 0, -3, np.int32), (5, 5, 1, np.int64), (1, 0, 1, np.int64),
    (0.5, 3.0, 0.7, np.float32), (1.0, -1.0, -0.5, np.float64), (2, 8, 2, np.int16),
])
def test_range(start: Any, limit: Any, delta: Any, dtype: Any) -> None:
    consts = {"a": np.array(start, dtype), "b": np.array(limit, dtype),
              "c": np.array(delta, dtype)}
    nodes = [helper.make_node("Range", ["a", "b", "c"], ["r"])]
    graph = compare(make(nodes, {}, ["r"], 11, consts), {})
    assert ops(graph) == []


def test_range_over_a_shape_folds() -> None:
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "one"], ["n"]),
             helper.make_node("Range", ["zero", "n", "one"], ["r"]),
             helper.make_node("Gather", ["x", "r"], ["y"], axis=1)]
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    consts = {"one": np.array(1, np.int64), "zero": np.array(0, np.int64)}
    graph = compare(make(nodes, {"x": x}, ["y"], 13, consts), {"x": x})
    assert ops(graph) == ["gather"]


def test_range_with_runtime_input_names_it() -> None:
    nodes = [helper.make_node("Range", ["a", "lim", "c"], ["r"])]
    consts = {"a": np.array(0, np.int64), "c": np.array(1, np.int64)}
    model = make(nodes, {"lim": np.array(5, np.int64)}, ["r"], 11, consts)
    with pytest.raises(UnsupportedError, match="input 'limit' is computed at run time"):
        from_onnx(model)


@pytest.mark.parametrize(("shape", "k", "dtype"), [
    ((3, 3), 0, None), ((3, 5), 1, None), ((4, 2), -1, TensorProto.INT32),
    ((2, 3), 4, TensorProto.DOUBLE),
])
def test_eye_like(shape: tuple, k: int, dtype: int | None) -> None:
    kw = {} if dtype is None else {"dtype": dtype}
    nodes = [helper.make_node("EyeLike", ["x"], ["y"], k=k, **kw)]
    x = np.zeros(shape, np.float32)
    graph = compare(make(nodes, {"x": x}, ["y"], 9), {"x": x})
    assert ops(graph) == []


# ---------------------------------------------------------------------- a real exporter's chains
@pytest.mark.parametrize("opset", [11, 13, 17])
def test_torch_export_shape_chains_fold(opset: int) -> None:
    """PyTorch's TorchScript exporter writes Shape/Gather/Div/Concat/ConstantOfShape chains for
    chunk, interpolate, pad and view; all of them must fold to static attributes."""
    torch = pytest.importorskip("torch")
    import io
    import warnings

    import torch.nn.functional as F  # noqa: N812

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(4, 8, 3, padding=1)

        def forward(self, x: Any) -> Any:
            y = self.conv(x)
            a, b = y.chunk(2, dim=1)
            y = torch.cat([b, a], 1)
            y = F.interpolate(y, scale_factor=2, mode="nearest")
            y = F.pad(y, (1, 2, 0, 1), mode="reflect")
            y = y.permute(0, 2, 3, 1)
            return y.reshape(y.shape[0], -1, 4)[:, 1:-1:2]

    torch.manual_seed(0)
    net = Net().eval()
    x = torch.randn(2, 4, 6, 5)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), buf, dynamo=False, opset_version=opset,
                          input_names=["x"], output_names=["y"])
    model = onnx.load_from_string(buf.getvalue())
    assert {"Shape", "Gather", "Concat"} <= {n.op_type for n in model.graph.node}
    graph = compare(model, {"x": x.numpy()})
    assert set(ops(graph)) <= {"nn.conv2d", "split", "get_item", "slice", "concat",
                               "image.resize2d", "pad", "transpose", "reshape"}
    with torch.no_grad():
        want = net(x).numpy()
    np.testing.assert_allclose(run(graph, {"x": x.numpy()})["y"], want, rtol=1e-5, atol=1e-5)
