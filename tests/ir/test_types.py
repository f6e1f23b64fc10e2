"""TensorType: printing, dtypes, sizes and validation."""

import numpy as np
import pytest

from edgecc.errors import EdgeccError
from edgecc.ir.parser import parse_type
from edgecc.ir.types import QuantParams, TensorType, canonical_dtype, type_of_array


def test_print_and_parse():
    t = TensorType((1, 3, 224, 224), "float32", "NCHW")
    assert str(t) == "f32[1,3,224,224]{NCHW}"
    assert parse_type(str(t)) == t
    assert str(TensorType((), "int64")) == "i64[]"


def test_quant_round_trip():
    t = TensorType((1, 8), "int8", None, QuantParams((0.5,), (3,)))
    assert str(t) == "i8[1,8]q(scale=0.5,zp=3)"
    assert parse_type(str(t)) == t
    per_ch = TensorType((4, 2), "int8", None, QuantParams((0.1, 0.2), (0, 0), axis=1))
    assert parse_type(str(per_ch)) == per_ch


def test_sizes():
    t = TensorType((2, 3), "float16")
    assert (t.numel, t.nbytes, t.rank) == (6, 12, 2)
    assert type_of_array(np.zeros((2, 2), np.int8)) == TensorType((2, 2), "int8")


def test_dtypes():
    assert canonical_dtype("f32") == "float32"
    assert canonical_dtype(np.dtype("uint8")) == "uint8"
    with pytest.raises(EdgeccError, match="unsupported dtype"):
        canonical_dtype("complex64")


def test_bad_layout_and_dims():
    with pytest.raises(EdgeccError, match="layout"):
        TensorType((1, 2), "float32", "NCHW")
    with pytest.raises(EdgeccError, match="negative"):
        TensorType((1, -1))
