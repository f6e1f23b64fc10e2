"""Compute rules of the transform family against the interpreter: reshape / transpose /
concat, slices with negative steps (end -1 = through index 0), gathers with negative indices,
pad in every mode with crops and multi-period pads, broadcast / tile / trilu, depth <-> space,
and resize in every mode (including the rounding cases where TOPI's float32 coordinates differ
from the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecc.testing.codegen import check_group, check_op

rng = np.random.default_rng(4)


def _r(*shape: int, dtype: str = "float32") -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def test_reshape_transpose_concat() -> None:
    check_op("reshape", _r(2, 3, 4), attrs={"newshape": (4, 6)})
    check_op("reshape", np.array(5.0, np.float32), attrs={"newshape": (1, 1)})
    check_op("transpose", _r(2, 3, 4), attrs={"axes": (2, 0, 1)})
    check_op("transpose", rng.random((2, 3)) > 0.5, attrs={"axes": (1, 0)})
    check_op("concat", _r(2, 3), _r(2, 1), _r(2, 4), attrs={"axis": 1})
    check_op("concat", _r(1, 3, dtype="float16"), attrs={"axis": 0})
    check_op("concat", np.arange(4, dtype=np.int8).reshape(2, 2),
             np.arange(2, dtype=np.int8).reshape(1, 2), attrs={"axis": 0})


SLICES = [
    {"starts": (1,), "ends": (4,), "axes": (1,), "steps": (1,)},
    {"starts": (3,), "ends": (-1,), "axes": (1,), "steps": (-1,)},  # through index 0
    {"starts": (4, 0), "ends": (0, 3), "axes": (1, 2), "steps": (-2, 2)},
    {"starts": (0, 2), "ends": (2, 2), "axes": (0, 2), "steps": (1, 1)},  # empty
    {"starts": (5,), "ends": (-1,), "axes": (1,), "steps": (-3,)},
]


@pytest.mark.parametrize("attrs", SLICES, ids=str)
def test_slice(attrs) -> None:
    check_op("slice", _r(2, 6, 4), attrs=attrs)


def test_gather() -> None:
    data = _r(3, 5, 2)
    check_op("gather", data, np.array([[0, -1], [4, -5]], np.int64), attrs={"axis": 1})
    check_op("gather", data, np.array(-2, np.int32), attrs={"axis": 0})
    check_op("gather", data, np.array([1, -1, 0], np.int64), attrs={"axis": 2}, consts=(1,))


def test_gather_elements() -> None:
    data = _r(3, 4)
    check_op("gather_elements", data, np.array([[0, -1, 2, -3], [2, 1, -2, 0]], np.int64),
             attrs={"axis": 0})
    check_op("gather_elements", data, np.array([[-1], [0], [2]], np.int32), attrs={"axis": 1})


PADS = [
    (0, 1, 2, 1, 0, 2),  # plain
    (1, -1, 0, -1, 2, 1),  # crops
    (2, 7, 0, 3, 9, 1),  # several periods (reflect / wrap / edge)
]


@pytest.mark.parametrize("pads", PADS, ids=str)
@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
def test_pad(mode, pads) -> None:
    check_op("pad", _r(2, 4, 3), attrs={"pads": pads, "mode": mode, "value": 1.5})


def test_pad_wrap_fused_index() -> None:
    # with floormod indices, TVM's FlattenBuffer miscompiled this one (see the pad rule)
    check_op("pad", _r(2, 3, 2), attrs={"pads": (4, 5, -1, 0, 1, 2), "mode": "wrap",
                                        "value": 0.0})


def test_pad_special() -> None:
    x = np.arange(6, dtype=np.int32).reshape(1, 6)
    check_op("pad", x, attrs={"pads": (0, 2, 0, 3), "mode": "constant", "value": -2.7})
    check_op("pad", _r(3, 1), attrs={"pads": (0, 3, 0, 2), "mode": "reflect", "value": 0.0})
    check_op("pad", rng.random((2, 2)) > 0.5, attrs={"pads": (1, 1, 1, 1), "mode": "constant",
                                                   "value": 1.0})


def test_broadcast_tile_trilu() -> None:
    check_op("broadcast_to", _r(3, 1), attrs={"shape": (2, 3, 4)})
    check_op("broadcast_to", np.array(2, np.int8), attrs={"shape": (3,)})
    check_op("tile", _r(2, 3), attrs={"repeats": (2, 3)})
    check_op("tile", _r(2, 1, 2), attrs={"repeats": (1, 3, 1)})
    for upper in (True, False):
        for k in (-1, 0, 2):
            check_op("trilu", _r(2, 3, 5), attrs={"upper": upper, "k": k})


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space(mode) -> None:
    check_op("nn.depth_to_space", _r(2, 8, 2, 3), attrs={"blocksize": 2, "mode": mode})


def test_space_to_depth() -> None:
    check_op("nn.space_to_depth", _r(1, 3, 4, 6), attrs={"blocksize": 2})


# --------------------------------------------------------------------------- resize
COORDS = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
          "asymmetric", "tf_half_pixel_for_nn"]


@pytest.mark.parametrize("coord", COORDS)
@pytest.mark.parametrize("nearest", ["round_prefer_floor", "round_prefer_ceil", "floor",
                                     "ceil"])
def test_resize_nearest(coord, nearest) -> None:
    check_op("image.resize2d", _r(1, 2, 4, 5),
             attrs={"sizes": (7, 3), "coordinate_transformation_mode": coord,
                    "nearest_mode": nearest})


@pytest.mark.parametrize("n_in, n_out, coord, nearest", [
    (7, 18, "asymmetric", "round_prefer_ceil"), (7, 9, "half_pixel", "floor"),
    (9, 21, "half_pixel", "floor")])
def test_resize_nearest_exact_boundaries(n_in, n_out, coord, nearest) -> None:
    # sizes where TOPI's float32 coordinates round the other way (checked)
    check_op("image.resize2d", np.arange(2 * n_in, dtype=np.float32).reshape(1, 1, 2, n_in),
             attrs={"sizes": (2, n_out), "coordinate_transformation_mode": coord,
                    "nearest_mode": nearest})


@pytest.mark.parametrize("coord", COORDS)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_resize_interp(mode, coord) -> None:
    check_op("image.resize2d", _r(1, 2, 4, 5),
             attrs={"sizes": (6, 3), "mode": mode, "coordinate_transformation_mode": coord})


def test_resize_options() -> None:
    x = _r(1, 1, 4, 4)
    check_op("image.resize2d", x, attrs={"sizes": (9, 7), "mode": "cubic",
                                         "cubic_coeff_a": -0.5, "exclude_outside": True})
    check_op("image.resize2d", x, attrs={"sizes": (2, 2), "mode": "linear",
                                         "scales": (0.6, 0.6)})  # scales != sizes / in
    check_op("image.resize2d", x, attrs={"sizes": (4, 8), "nearest_mode": "ceil",
                                         "coordinate_transformation_mode":
                                             "tf_half_pixel_for_nn"})  # H is the identity
    check_op("image.resize2d", (rng.random((1, 2, 3, 3)) * 250).astype(np.uint8),
             attrs={"sizes": (5, 4), "mode": "cubic"})  # truncated and saturated
    check_op("image.resize2d", (rng.random((1, 1, 3, 3)) > 0.5), attrs={"sizes": (5, 5)})
    check_op("image.resize2d", _r(1, 1, 3, 4, dtype="float16"),
             attrs={"sizes": (5, 6), "mode": "linear"}, rtol=1e-3, atol=1e-3)


# --------------------------------------------------------------------------- fused
def test_fused_reshape_transpose() -> None:
    text = """
graph @main(%x: f32[2,6,4], %y: f32[4,2,3]) -> f32[4,2,3] {
  %1 = reshape(%x) {newshape=(2,3,2,4)} : f32[2,3,2,4]
  %2 = transpose(%1) {axes=(3,0,2,1)} : f32[4,2,2,3]
  %3 = slice(%2) {starts=(1,), ends=(-1,), axes=(2,), steps=(-1,)} : f32[4,2,2,3]
  %4 = reshape(%3) {newshape=(4,4,3)} : f32[4,4,3]
  %5 = pad(%4) {pads=(0,-2,0,0,0,0), mode="constant", value=0.0} : f32[4,2,3]
  %6 = add(%5, %y) : f32[4,2,3]
  return %6
}"""
    check_group(text, {"x": _r(2, 6, 4), "y": _r(4, 2, 3)})


def test_fused_resize_concat() -> None:
    text = """
graph @main(%x: f32[1,2,3,3], %s: f32[1,1,6,6]) -> f32[1,12,3,3] {
  %1 = image.resize2d(%x) {sizes=(6,6), mode="linear"} : f32[1,2,6,6]
  %2 = concat(%1, %s) {axis=1} : f32[1,3,6,6]
  %3 = nn.space_to_depth(%2) {blocksize=2} : f32[1,12,3,3]
  return %3
}"""
    check_group(text, {"x": _r(1, 2, 3, 3), "s": _r(1, 1, 6, 6)})
