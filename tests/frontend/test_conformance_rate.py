"""The ONNX node conformance rate over edgecc's operator list: at least 95% of the cases pass.

The same computation as `benchmarks/onnx_conformance.py`; the summary line shows with `-s` or
on failure, with the failing cases.
"""

from __future__ import annotations

from edgecc.testing import conformance

MIN_RATE = 0.95


def test_node_conformance_rate() -> None:
    sel, results = conformance.run_conformance()
    summary = conformance.summarize(sel, results)
    line = conformance.summary_line(summary)
    print("\n" + line)
    assert summary["operators"]["total"] == len(conformance.ONNX_OPS)
    assert summary["cases"]["total"] == len(sel.in_scope) > 0
    failing = "\n".join(f"  {name}: {err}" for name, err in summary["failing"].items())
    assert summary["cases"]["rate"] >= MIN_RATE, f"{line}\nfailing cases:\n{failing}"
