"""Every environment knob of edgecc, declared once, typed and documented.

Code reads knobs through these objects (`DEBUG.get()`), never through `os.environ` elsewhere.
`edgecc knobs` prints the table with current values.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from edgecc.errors import EdgeccError

T = TypeVar("T")


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected 0/1/true/false, got {text!r}")


@dataclass(frozen=True)
class Knob(Generic[T]):
    """One environment variable: its name, default, parser and meaning."""

    env: str
    default: T
    parse: Callable[[str], T]
    doc: str

    def get(self) -> T:
        raw = os.environ.get(self.env)
        if raw is None or raw == "":
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise EdgeccError(f"environment variable {self.env}={raw!r}: {exc}") from None


DEBUG: Knob[int] = Knob(
    "EDGECC_DEBUG", 0, int,
    "0 quiet; 1 pipeline summary and Python tracebacks on errors; 2 per-pass timing; "
    "3 IR after each changed pass; 4 generated TIR per kernel; 5 LLVM IR/assembly")
PRINT_AFTER: Knob[str] = Knob(
    "EDGECC_PRINT_AFTER", "", str,
    "print the IR after passes: 'all', 'changed', or a comma list of pass names")
DUMP_DIR: Knob[str] = Knob(
    "EDGECC_DUMP_DIR", "", str,
    "write the IR before the pipeline and after every pass as numbered files in this folder")
VERIFY_EACH: Knob[bool] = Knob(
    "EDGECC_VERIFY_EACH", False, _bool, "verify the graph after every pass (on in the tests)")
REPRODUCER_DIR: Knob[str] = Knob(
    "EDGECC_REPRODUCER_DIR", "", str,
    "where a failing pass writes its crash reproducer (default: a fresh temporary folder)")
CACHE_DIR: Knob[Path] = Knob(
    "EDGECC_CACHE_DIR", Path.home() / ".cache" / "edgecc", lambda s: Path(s).expanduser(),
    "cache folder (test model zoo, later: tuning logs, compiled kernels)")

TVM_NUM_THREADS: Knob[int] = Knob(
    "TVM_NUM_THREADS", 0, int,
    "threads of TVM's runtime (TVM reads it once, when it starts); edgecc sets it to the "
    "machine's cores when it is unset (TVM alone would use half of them)")

ALL_KNOBS: tuple[Knob, ...] = (DEBUG, PRINT_AFTER, DUMP_DIR, VERIFY_EACH, REPRODUCER_DIR,
                               CACHE_DIR, TVM_NUM_THREADS)


def default_tvm_threads(cores: int) -> int:
    """Set TVM_NUM_THREADS to `cores` unless the user set it; returns the value in force.

    Only effective before TVM's runtime starts its thread pool (the first parallel call).
    """
    current = TVM_NUM_THREADS.get()
    if current <= 0:
        os.environ[TVM_NUM_THREADS.env] = str(cores)
        return cores
    return current
