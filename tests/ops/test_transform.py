"""Transform ops and their ONNX converters, checked against onnxruntime and numpy."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper

from edgecc.errors import ConversionError, TypeInferenceError, UnsupportedError
from edgecc.frontend.onnx import from_onnx
from edgecc.frontend.onnx.registry import find_converter, supported_ops
from edgecc.interpreter import run
from edgecc.ir.types import TensorType
from edgecc.ops.registry import get_op, infer_type, normalize_attrs
from edgecc.testing.single_op import (
    RandomArrays,
    assert_outputs_close,
    check_against_ort,
    ir_ops,
    model_from_node,
    run_edgecc,
)

RNG = np.random.default_rng(0)
INT_MAX = np.iinfo(np.int64).max


# ---------------------------------------------------------------------- helpers
_model = functools.partial(model_from_node, ir_version=10)


def check(op: str, feeds: dict[str, np.ndarray], consts: dict[str, np.ndarray] | None = None,
          *, opset: int = 17, inputs: Sequence[str] | None = None, n_out: int = 1,
          expect: Sequence[np.ndarray] | None = None, **attrs: Any) -> list[np.ndarray]:
    """Run one ONNX node through edgecc and onnxruntime (or compare with `expect`)."""
    consts = consts or {}
    names = list(inputs) if inputs is not None else [*feeds, *consts]
    node = helper.make_node(op, names, [f"y{i}" for i in range(n_out)], **attrs)
    model = _model(node, feeds, consts, opset=opset)
    if expect is None:
        return check_against_ort(model, feeds)
    got = run_edgecc(model, feeds)
    assert_outputs_close(got, list(expect))
    return got


rand = RandomArrays(RNG, ints=(-50, 49))


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


# ---------------------------------------------------------------------- Reshape family
@pytest.mark.parametrize(("shape", "spec", "opset"), [
    ((2, 3, 4), (0, -1), 13), ((2, 3, 4), (-1,), 5), ((2, 3, 4), (4, 0, 2), 14),
    ((2, 3, 4), (2, 1, 12, 1), 21), ((6,), (2, -1, 1), 13), ((1, 3, 1, 1), (1, 3), 13),
])
def test_reshape(shape: tuple, spec: tuple, opset: int) -> None:
    check("Reshape", {"x": rand(*shape)}, {"s": i64(*spec)}, opset=opset)


def test_reshape_allowzero_and_empty() -> None:
    # Zero-size tensors cannot be graph inputs; a constant one folds at import.
    x = np.zeros((0, 3), np.float32)
    check("Reshape", {}, {"x": x, "s": i64(3, 0)}, opset=14, allowzero=1)
    check("Reshape", {}, {"x": x, "s": i64(0, 3)}, opset=14)
    check("Reshape", {"x": rand(2, 3)}, {"s": i64(0, 3)}, opset=14, allowzero=0)


def test_reshape_v1_attribute() -> None:
    x = rand(2, 6)
    check("Reshape", {"x": x}, opset=1, shape=[3, -1], expect=[x.reshape(3, 4)])


def test_reshape_errors() -> None:
    x = {"x": rand(2, 3)}
    for spec in ((-1, -1), (4, -1), (5,)):
        with pytest.raises(ConversionError):
            check("Reshape", x, {"s": i64(*spec)}, opset=13)
    node = helper.make_node("Reshape", ["x", "s"], ["y0"])
    model = _model(node, {"x": rand(2, 3), "s": i64(3, 2)}, {}, opset=13)
    with pytest.raises(UnsupportedError, match="'shape' must be a compile-time constant"):
        from_onnx(model)


@pytest.mark.parametrize(("axis", "opset"), [
    (0, 9), (1, 9), (3, 9), (4, 13), (2, 13), (-1, 11), (-4, 13), (-2, 21),
])
def test_flatten(axis: int, opset: int) -> None:
    check("Flatten", {"x": rand(2, 3, 4, 5)}, opset=opset, axis=axis)


def test_flatten_default_axis() -> None:
    check("Flatten", {"x": rand(2, 3, 4)}, opset=13)


@pytest.mark.parametrize(("shape", "axes", "opset"), [
    ((1, 3, 1, 5), [0, 2], 11), ((1, 3, 1, 5), [-2], 11), ((1, 3, 1, 5), None, 11),
    ((1, 3, 1, 5), [2, 0], 13), ((1, 3, 1, 5), None, 13), ((1, 1), [0, 1], 21),
])
def test_squeeze(shape: tuple, axes: list | None, opset: int) -> None:
    x = {"x": rand(*shape)}
    if opset < 13:
        kw = {} if axes is None else {"axes": axes}
        check("Squeeze", x, opset=opset, **kw)
    elif axes is None:
        check("Squeeze", x, opset=opset)
    else:
        check("Squeeze", x, {"a": i64(*axes)}, opset=opset)


def test_squeeze_non_unit_axis_is_an_error() -> None:
    with pytest.raises(ConversionError, match="cannot squeeze axis 1"):
        check("Squeeze", {"x": rand(1, 3)}, {"a": i64(1)}, opset=13)


@pytest.mark.parametrize(("shape", "axes", "opset"), [
    ((3, 4), [0], 11), ((3, 4), [-1], 11), ((3, 4), [1, 3], 11), ((3, 4), [3, 0], 13),
    ((3,), [0, -1], 13), ((), [0], 13), ((2, 3), [1, 2, 4], 21),
])
def test_unsqueeze(shape: tuple, axes: list, opset: int) -> None:
    x = {"x": rand(*shape)}
    if opset < 13:
        check("Unsqueeze", x, opset=opset, axes=axes)
    else:
        check("Unsqueeze", x, {"a": i64(*axes)}, opset=opset)


def test_squeeze_unsqueeze_become_reshape() -> None:
    node = helper.make_node("Unsqueeze", ["x", "a"], ["y0"])
    model = _model(node, {"x": rand(3, 4)}, {"a": i64(0)}, opset=13)
    graph = from_onnx(model)
    (op,) = list(graph.ops())
    assert op.op == "reshape" and op.attrs["newshape"] == (1, 3, 4)


# ---------------------------------------------------------------------- Transpose / Concat
@pytest.mark.parametrize("perm", [None, [0, 2, 1, 3], [3, 2, 0, 1], [0, 1, 2, 3]])
def test_transpose(perm: list | None) -> None:
    kw = {} if perm is None else {"perm": perm}
    check("Transpose", {"x": rand(2, 3, 4, 5)}, opset=13, **kw)


def test_transpose_int_and_1d() -> None:
    check("Transpose", {"x": rand(4, dtype=np.int64)}, opset=21)
    check("Transpose", {"x": rand(2, 3, dtype=np.int32)}, opset=13, perm=[1, 0])


@pytest.mark.parametrize(("shapes", "axis"), [
    ([(2, 3), (2, 5)], 1), ([(2, 3), (4, 3), (1, 3)], 0), ([(2, 3, 1), (2, 3, 2)], -1),
    ([(5,)], 0),
])
def test_concat(shapes: list, axis: int) -> None:
    feeds = {f"x{i}": rand(*s) for i, s in enumerate(shapes)}
    check("Concat", feeds, opset=13, axis=axis)
    check("Concat", {"x": rand(2, 4)}, {"e": np.zeros((2, 0), np.float32)}, opset=13, axis=1)


def test_concat_mixed_const_and_runtime() -> None:
    check("Concat", {"x": rand(2, 3)}, {"c": rand(2, 2)}, opset=11, axis=1)
    check("Concat", {"x": rand(2, 3)}, {"c": rand(1, 3)}, opset=4, axis=0)


def test_concat_shape_mismatch() -> None:
    with pytest.raises(TypeInferenceError, match="shapes differ"):
        check("Concat", {"a": rand(2, 3), "b": rand(3, 3)}, opset=13, axis=1)


# ---------------------------------------------------------------------- Split
@pytest.mark.parametrize(("shape", "axis", "sizes", "opset"), [
    ((6, 4), 0, [2, 4], 11), ((6, 4), 1, [1, 1, 2], 11), ((6, 4), -1, [3, 1], 13),
    ((6, 4), 0, [0, 6], 13), ((2, 9), 1, [3, 3, 3], 18), ((5,), 0, [2, 3], 7),
])
def test_split_sizes(shape: tuple, axis: int, sizes: list, opset: int) -> None:
    x = {"x": rand(*shape)}
    n = len(sizes)
    if opset < 13:
        check("Split", x, opset=opset, n_out=n, axis=axis, split=sizes)
    else:
        check("Split", x, {"s": i64(*sizes)}, opset=opset, n_out=n, axis=axis)


@pytest.mark.parametrize(("dim", "num"), [(9, 3), (10, 3), (7, 4), (4, 4)])
def test_split_num_outputs(dim: int, num: int) -> None:
    check("Split", {"x": rand(2, dim)}, opset=18, n_out=num, axis=1, num_outputs=num)


def test_split_equal_parts_uses_the_output_count() -> None:
    node = helper.make_node("Split", ["x"], ["y0", "y1", "y2"], axis=1)
    model = _model(node, {"x": rand(2, 7)}, {}, opset=13)
    with pytest.raises(ConversionError, match="does not split evenly"):
        from_onnx(model)
    check("Split", {"x": rand(2, 6)}, opset=13, n_out=3, axis=1)
    check("Split", {"x": rand(6, 2)}, opset=11, n_out=2)


def test_split_graph_uses_get_item() -> None:
    node = helper.make_node("Split", ["x", "s"], ["y0", "y1"], axis=0)
    model = _model(node, {"x": rand(5, 2)}, {"s": i64(2, 3)}, opset=13)
    ops = ir_ops(model)
    assert ops == ["split", "get_item", "get_item"]


def test_split_of_constant_folds() -> None:
    node = helper.make_node("Split", ["c", "s"], ["y0", "y1"], axis=0)
    c = rand(5, 2)
    model = _model(node, {}, {"c": c, "s": i64(2, 3)}, opset=13)
    graph = from_onnx(model)
    assert list(graph.ops()) == []
    out = run(graph, {})
    np.testing.assert_array_equal(out["y0"], c[:2])
    np.testing.assert_array_equal(out["y1"], c[2:])


def test_split_bad_sizes() -> None:
    with pytest.raises(ConversionError, match="do not add up"):
        check("Split", {"x": rand(5)}, {"s": i64(2, 2)}, opset=13, n_out=2)


# ---------------------------------------------------------------------- Slice
@pytest.mark.parametrize(("starts", "ends", "axes", "steps"), [
    ([0, 1], [2, 3], [0, 1], [1, 1]),
    ([1], [INT_MAX], [1], None),
    ([-3], [-1], [2], None),
    ([-1], [-INT_MAX], [1], [-1]),
    ([5, 2], [-INT_MAX, 0], [2, 1], [-2, -1]),
    ([100], [200], [0], None),
    ([-100], [100], [0], [3]),
    ([0, 0, 3], [-1, 5, 4], None, None),
    ([3], [1], [2], [1]),
    ([1], [3], [-2], [1]),
])
def test_slice(starts: list, ends: list, axes: list | None, steps: list | None) -> None:
    consts = {"s": i64(*starts), "e": i64(*ends)}
    names = ["x", "s", "e"]
    if axes is not None:
        consts["a"] = i64(*axes)
        names.append("a")
    if steps is not None:
        if axes is None:
            names.append("")
        consts["t"] = i64(*steps)
        names.append("t")
    check("Slice", {"x": rand(3, 4, 6)}, consts, opset=13, inputs=names)


def test_slice_opset10_and_v1_attributes() -> None:
    check("Slice", {"x": rand(4, 5)}, {"s": i64(1), "e": i64(-1)}, opset=10)
    check("Slice", {"x": rand(4, 5)}, opset=9, starts=[1, -2], ends=[3, INT_MAX], axes=[0, 1])
    check("Slice", {"x": rand(4, 5)}, opset=7, starts=[0, 1], ends=[2, 3])


def test_slice_empty_dim_and_zero_step() -> None:
    check("Slice", {}, {"x": np.zeros((0, 3), np.float32), "s": i64(0), "e": i64(5),
                        "a": i64(0)}, opset=13)
    check("Slice", {}, {"x": np.zeros((3, 0), np.float32), "s": i64(2), "e": i64(-9),
                        "a": i64(1), "t": i64(-1)}, opset=13)
    with pytest.raises(ConversionError, match="step 0"):
        check("Slice", {"x": rand(3)}, {"s": i64(0), "e": i64(2), "a": i64(0), "t": i64(0)},
              opset=13)


# ---------------------------------------------------------------------- Gather
@pytest.mark.parametrize(("shape", "ind_shape", "axis"), [
    ((5, 4), (3,), 0), ((5, 4), (2, 3), 1), ((3, 4, 5), (2, 2), -1), ((6,), (), 0),
    ((3, 4, 5), (7,), 1),
])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_gather_runtime_indices(shape: tuple, ind_shape: tuple, axis: int, dtype: Any) -> None:
    dim = shape[axis]
    idx = RNG.integers(-dim, dim, size=ind_shape).astype(dtype)
    check("Gather", {"x": rand(*shape), "i": idx}, opset=13, axis=axis)


def test_gather_embedding_like() -> None:
    table = rand(30, 8)
    ids = np.array([[1, 5, 29, -1]], np.int64)
    check("Gather", {"ids": ids}, {"table": table}, opset=13, inputs=["table", "ids"])


def test_gather_constant_scalar_index_and_int_data() -> None:
    check("Gather", {"x": rand(3, 4, dtype=np.int64)}, {"i": np.array(-1, np.int64)},
          opset=11, axis=1)


def test_gather_out_of_range_raises() -> None:
    node = helper.make_node("Gather", ["x", "i"], ["y0"])
    model = _model(node, {"x": rand(3), "i": i64(3)}, {}, opset=13)
    with pytest.raises(Exception, match="out of range"):
        run(from_onnx(model), {"x": rand(3), "i": i64(3)})


@pytest.mark.parametrize(("shape", "ind_shape", "axis"), [
    ((3, 3), (2, 3), 0), ((3, 3), (3, 2), 1), ((2, 3, 4), (2, 3, 2), -1), ((4, 5), (2, 2), 0),
])
def test_gather_elements(shape: tuple, ind_shape: tuple, axis: int) -> None:
    dim = shape[axis]
    idx = RNG.integers(-dim, dim, size=ind_shape).astype(np.int64)
    check("GatherElements", {"x": rand(*shape), "i": idx}, opset=13, axis=axis)


# ---------------------------------------------------------------------- Pad
@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("pads", [(0, 0, 1, 2, 0, 0, 2, 1), (1, 0, 0, 0, 0, 1, 0, 3)])
def test_pad_modes(mode: str, pads: tuple) -> None:
    check("Pad", {"x": rand(2, 3, 4, 5)}, {"p": i64(*pads), "v": np.array(1.5, np.float32)},
          opset=13, mode=mode)


def test_pad_wrap_and_axes() -> None:
    check("Pad", {"x": rand(3, 4)}, {"p": i64(1, 2, 2, 3)}, opset=19, mode="wrap")
    check("Pad", {"x": rand(2, 3, 4)}, {"p": i64(1, 2, 0, 3), "a": i64(-1, 1)}, opset=18,
          inputs=["x", "p", "", "a"])
    check("Pad", {"x": rand(2, 3, 4)}, {"p": i64(2, 1), "a": i64(0)}, opset=19, mode="edge",
          inputs=["x", "p", "", "a"])


def test_pad_negative_crops() -> None:
    check("Pad", {"x": rand(4, 5)}, {"p": i64(-1, 2, 1, -2)}, opset=13)
    check("Pad", {"x": rand(4, 5)}, {"p": i64(-1, 0, -2, 0)}, opset=13)


def test_pad_int_and_default_value() -> None:
    check("Pad", {"x": rand(3, 4, dtype=np.int32)}, {"p": i64(1, 1, 1, 1),
                                                     "v": np.array(7, np.int32)}, opset=11)
    check("Pad", {"x": rand(3, 4)}, {"p": i64(0, 1, 2, 0)}, opset=11)


def test_pad_v2_and_v1_attributes() -> None:
    x = rand(2, 3)
    check("Pad", {"x": x}, opset=7, pads=[0, 1, 1, 0], value=2.0)
    check("Pad", {"x": x}, opset=7, pads=[1, 1, 1, 1], mode="reflect")
    check("Pad", {"x": x}, opset=1, paddings=[1, 0, 0, 2], value=-1.0,
          expect=[np.pad(x, ((1, 0), (0, 2)), constant_values=-1.0)])


def test_pad_dynamic_value_is_unsupported() -> None:
    node = helper.make_node("Pad", ["x", "p", "v"], ["y0"])
    model = _model(node, {"x": rand(2), "v": np.array(1.0, np.float32)}, {"p": i64(1, 1)}, opset=13)
    with pytest.raises(UnsupportedError, match="constant_value"):
        from_onnx(model)


# ---------------------------------------------------------------------- Expand / Tile
@pytest.mark.parametrize(("shape", "target"), [
    ((3, 1), (2, 1, 6)), ((2, 3), (3,)), ((1,), (2, 2)), ((4, 1, 2), (4, 3, 1)), ((), (2, 3)),
    ((2, 3), (1, 1, 1)),
])
def test_expand(shape: tuple, target: tuple) -> None:
    check("Expand", {"x": rand(*shape)}, {"s": i64(*target)}, opset=13)


def test_expand_incompatible() -> None:
    with pytest.raises(ConversionError, match="does not broadcast"):
        check("Expand", {"x": rand(2, 3)}, {"s": i64(4)}, opset=8)


@pytest.mark.parametrize(("shape", "reps"), [((2, 3), (1, 2)), ((2, 3, 1), (2, 1, 3)),
                                             ((4,), (0,))])
def test_tile(shape: tuple, reps: tuple) -> None:
    check("Tile", {"x": rand(*shape)}, {"r": i64(*reps)}, opset=13)


def test_tile_v1() -> None:
    x = rand(2, 3)
    check("Tile", {"x": x}, {"t": i64(3), "a": i64(1)}, opset=1, expect=[np.tile(x, (1, 3))])


# ---------------------------------------------------------------------- depth/space, trilu
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("b", [2, 3])
def test_depth_to_space(mode: str, b: int) -> None:
    check("DepthToSpace", {"x": rand(2, 2 * b * b, 3, 4)}, opset=13, blocksize=b, mode=mode)


def test_depth_to_space_v1_and_space_to_depth() -> None:
    check("DepthToSpace", {"x": rand(1, 8, 2, 3)}, opset=7, blocksize=2)
    check("SpaceToDepth", {"x": rand(2, 3, 4, 6)}, opset=13, blocksize=2)
    check("SpaceToDepth", {"x": rand(1, 2, 6, 3)}, opset=7, blocksize=3)


def test_space_to_depth_crd_is_inverse_of_depth_to_space_crd() -> None:
    x = rand(2, 3, 4, 6)
    node = helper.make_node("SpaceToDepth", ["x"], ["y0"], blocksize=2, mode="CRD")
    model = _model(node, {"x": x}, {}, opset=28)
    y = run_edgecc(model, {"x": x})[0]
    back = check("DepthToSpace", {"y": y}, opset=13, blocksize=2, mode="CRD")[0]
    np.testing.assert_array_equal(back, x)


@pytest.mark.parametrize("upper", [0, 1])
@pytest.mark.parametrize("k", [None, 0, 1, -2, 5])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 3), (5, 2)])
def test_trilu(upper: int, k: int | None, shape: tuple) -> None:
    if k is None:
        check("Trilu", {"x": rand(*shape)}, opset=14, upper=upper)
    else:
        check("Trilu", {"x": rand(*shape)}, {"k": np.array(k, np.int64)}, opset=14, upper=upper)


def test_identity_is_emitted() -> None:
    node = helper.make_node("Identity", ["x"], ["y0"])
    model = _model(node, {"x": rand(2, 3)}, {}, opset=13)
    assert ir_ops(model) == ["identity"]
    check("Identity", {"x": rand(2, 3)}, opset=13)


# ---------------------------------------------------------------------- type rules directly
def _infer(op: str, types: list[TensorType], **attrs: Any) -> Any:
    return infer_type(op, types, normalize_attrs(op, attrs))


def test_type_rules_reject_bad_attributes() -> None:
    t = TensorType((2, 3))
    cases = [
        ("reshape", {"newshape": (5,)}), ("reshape", {"newshape": (-1,)}),
        ("transpose", {"axes": (0, 0)}), ("split", {"axis": 1, "sizes": (1, 1)}),
        ("slice", {"starts": (0,), "ends": (5,), "axes": (0,), "steps": (1,)}),
        ("slice", {"starts": (-1,), "ends": (2,), "axes": (1,), "steps": (1,)}),
        ("slice", {"starts": (0,), "ends": (1,), "axes": (2,), "steps": (1,)}),
        ("pad", {"pads": (1, 1)}), ("pad", {"pads": (0, 0, 0, 0), "mode": "mirror"}),
        ("pad", {"pads": (-2, 0, -1, 0)}), ("broadcast_to", {"shape": (3, 3)}),
        ("tile", {"repeats": (2,)}), ("trilu", {}),
    ]
    for op, attrs in cases:
        types = [TensorType((3,))] if op == "trilu" else [t]
        with pytest.raises(TypeInferenceError):
            _infer(op, types, **attrs)


def test_type_rules_results() -> None:
    t = TensorType((2, 3, 4), "float16", "NCW")
    assert _infer("reshape", [t], newshape=(6, 4)) == TensorType((6, 4), "float16")
    assert _infer("transpose", [t], axes=(2, 0, 1)).shape == (4, 2, 3)
    parts = _infer("split", [t], axis=2, sizes=(1, 3))
    assert [p.shape for p in parts] == [(2, 3, 1), (2, 3, 3)]
    assert _infer("slice", [t], starts=(3,), ends=(-1,), axes=(2,), steps=(-2,)).shape == (2, 3, 2)
    idx = TensorType((5, 1), "int32")
    assert _infer("gather", [t, idx], axis=1).shape == (2, 5, 1, 4)
    with pytest.raises(TypeInferenceError, match="integer"):
        _infer("gather", [t, TensorType((2,))], axis=0)
    assert _infer("pad", [t], pads=(0, 1, -1, 0, 2, 1)).shape == (2, 6, 4)
    assert _infer("concat", [t, t], axis=0).shape == (4, 3, 4)
    d2s = _infer("nn.depth_to_space", [TensorType((1, 8, 2, 2))], blocksize=2)
    assert d2s.shape == (1, 2, 4, 4)
    with pytest.raises((UnsupportedError, TypeInferenceError), match="layout NCHW only"):
        _infer("nn.space_to_depth", [TensorType((1, 4, 4, 8), layout="NHWC")], blocksize=2)
    for op in ("reshape", "transpose", "concat", "split", "slice", "gather", "pad", "tile"):
        assert get_op(op).ref is not None and get_op(op).pattern.name == "INJECTIVE"


# ---------------------------------------------------------------------- converter signatures
_MY_OPS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split",
           "Slice", "Gather", "GatherElements", "Pad", "Resize", "Upsample", "Expand", "Tile",
           "DepthToSpace", "SpaceToDepth", "Trilu", "Identity", "Shape", "Size", "Constant",
           "ConstantOfShape", "Range", "EyeLike")


@pytest.mark.parametrize("op", _MY_OPS)
def test_converter_signatures_match_onnx_schemas(op: str) -> None:
    """Every converter accepts exactly the attributes of the schema version it starts at."""
    assert supported_ops()[("", op)]
    for opset in range(1, 24):
        try:
            schema = onnx.defs.get_schema(op, opset)
        except Exception:
            continue
        fn = find_converter("", op, opset)
        assert fn is not None, (op, opset)
        params = inspect.signature(fn).parameters
        kw = {n for n, p in params.items() if p.kind == p.KEYWORD_ONLY}
        assert kw == set(schema.attributes), (op, opset, fn.__name__, kw, set(schema.attributes))
