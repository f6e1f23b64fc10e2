"""Run ONNX's node conformance cases for edgecc's operator list and report the pass rate.

    python benchmarks/onnx_conformance.py [--out DIR] [--filter REGEX] [-v]

Prints per-operator results and the summary line; with `--out`, writes `conformance.json` and
`conformance.md` there. Every in-scope case runs (no timeouts); each failure is caught and
reported with the first line of its error. Importable: `main(argv)` returns the summary dict.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from edgecc.testing import conformance


def run(filter_regex: str | None = None, verbose: bool = False) -> dict[str, Any]:
    """Run the in-scope cases (those matching `filter_regex`, if given); returns the summary."""
    sel = conformance.select_cases()
    names = sel.in_scope
    if filter_regex:
        names = [n for n in names if re.search(filter_regex, n)]
    start = time.perf_counter()
    _, results = conformance.run_conformance(names)
    if verbose:
        for r in results:
            status = "ok  " if r.passed else "FAIL"
            print(f"{status} {r.name} ({r.seconds:.2f}s){'' if r.passed else ': ' + str(r.error)}")
    summary = conformance.summarize(sel, results)
    summary["seconds"] = round(time.perf_counter() - start, 2)
    summary["slowest"] = {r.name: round(r.seconds, 3)
                          for r in sorted(results, key=lambda r: -r.seconds)[:10]}
    return summary


def print_summary(summary: dict[str, Any], file: Any = sys.stdout) -> None:
    """Per-op lines, the failing cases and the summary line."""
    for op, s in summary["per_op"].items():
        if s["cases"]:
            print(f"{op:24s} {s['passed']:3d}/{s['cases']:<3d} {s['status']}", file=file)
    if summary["failing"]:
        print(f"\nfailing cases ({len(summary['failing'])}):", file=file)
        for name, err in summary["failing"].items():
            print(f"  {name}: {err}", file=file)
    print(f"\n{conformance.summary_line(summary)} in {summary['seconds']:.1f}s", file=file)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for conformance.json and .md")
    parser.add_argument("--filter", help="only cases whose name matches this regex")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per case")
    args = parser.parse_args(argv)
    summary = run(args.filter, args.verbose)
    print_summary(summary)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "conformance.json").write_text(json.dumps(summary, indent=2) + "\n")
        (args.out / "conformance.md").write_text(conformance.to_markdown(summary))
        print(f"wrote {args.out / 'conformance.json'} and {args.out / 'conformance.md'}")
    return summary


if __name__ == "__main__":
    main()
