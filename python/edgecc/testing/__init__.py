"""Test and benchmark helpers: numerical comparison, the model zoo, ONNX conformance.

`compare` (relative errors, onnxruntime runs, seeded feeds and weights) is re-exported here;
`zoo` (models built with torch) and `conformance` (ONNX's node cases) are imported on their own,
since they need the test extras.
"""

from __future__ import annotations

from edgecc.testing.compare import (
    random_feeds,
    rel_error,
    rel_errors,
    replace_constant_weights,
    run_onnxruntime,
)

__all__ = ["random_feeds", "rel_error", "rel_errors", "replace_constant_weights",
           "run_onnxruntime"]
