"""`check_pass`: text in, text out, and the same values before and after."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from edgecc.cli.common import random_inputs
from edgecc.interpreter import run
from edgecc.ir.compare import structural_diff
from edgecc.ir.parser import parse_graph
from edgecc.ir.printer import print_graph
from edgecc.transform import PassContext, run_pipeline
from edgecc.transform.instruments import VerifyEach


def _check(before: str, pipeline: str, expected: str, *, numerics: bool = True,
           rtol: float = 1e-5, atol: float = 1e-6, seed: int = 0) -> PassContext:
    graph = parse_graph(before)
    original = graph.copy()
    ctx = PassContext([VerifyEach()])
    run_pipeline(graph, pipeline, ctx)
    want = parse_graph(expected)
    diff = structural_diff(graph, want)
    assert diff is None, f"{diff}\n--- got:\n{print_graph(graph)}--- expected:\n{print_graph(want)}"
    if numerics:
        feeds = random_inputs(original, seed)
        ref = run(original, feeds)
        got = run(graph, feeds)
        for name in ref:
            np.testing.assert_allclose(got[name], ref[name], rtol=rtol, atol=atol, err_msg=name)
    return ctx


@pytest.fixture
def check_pass() -> Callable[..., PassContext]:
    return _check
