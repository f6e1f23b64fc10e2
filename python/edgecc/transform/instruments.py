"""Pass instruments: print IR, dump numbered files, time passes, verify, write crash reproducers.

An instrument sees every pass of a run: `before_pass`, `after_pass` (with whether the pass
changed the graph and how long it took), `on_error` when a pass raises, `finish` at the end.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import TextIO

from edgecc.errors import PassError
from edgecc.ir.graph import Graph


class Instrument:
    """Base instrument: every hook does nothing."""

    def start(self, graph: Graph, pipeline: str) -> None:
        pass

    def before_pass(self, index: int, name: str, graph: Graph) -> None:
        pass

    def after_pass(self, index: int, name: str, graph: Graph, changed: bool,
                   seconds: float) -> None:
        pass

    def on_error(self, index: int, name: str, exc: BaseException) -> str | None:
        """Called when a pass raises; may return a line to add to the error message."""
        return None

    def finish(self, graph: Graph) -> None:
        pass


def _header(when: str, name: str, changed: bool | None = None) -> str:
    tag = "" if changed is None else (" (changed)" if changed else " (no change)")
    return f"*** IR Dump {when} {name}{tag} ***"


class PrintIR(Instrument):
    """Print the IR before and/or after passes: all of them, the named ones, or changed ones."""

    def __init__(self, *, before: bool = False, after: bool = True,
                 passes: Collection[str] | None = None, only_changed: bool = False,
                 show_meta: tuple[str, ...] = (), stream: TextIO | None = None) -> None:
        self.before, self.after = before, after
        self.passes = set(passes) if passes is not None else None
        self.only_changed = only_changed
        self.show_meta = show_meta
        self.stream = stream

    def _out(self) -> TextIO:
        return self.stream or sys.stdout

    def _wanted(self, name: str) -> bool:
        return self.passes is None or name in self.passes

    def _print(self, header: str, graph: Graph) -> None:
        from edgecc.ir.printer import print_graph

        out = self._out()
        out.write(header + "\n" + print_graph(graph, show_meta=self.show_meta) + "\n")

    def before_pass(self, index: int, name: str, graph: Graph) -> None:
        if self.before and self._wanted(name):
            self._print(_header("Before", name), graph)

    def after_pass(self, index: int, name: str, graph: Graph, changed: bool,
                   seconds: float) -> None:
        if self.after and self._wanted(name) and (changed or not self.only_changed):
            self._print(_header("After", name, changed), graph)


class DumpIR(Instrument):
    """Write `000_input.ir`, `001_<pass>.ir`, ... (text form) into a folder."""

    def __init__(self, folder: str | Path, *, show_meta: tuple[str, ...] = ()) -> None:
        self.folder = Path(folder)
        self.show_meta = show_meta
        self.files: list[Path] = []

    def _write(self, stem: str, header: str, graph: Graph) -> None:
        from edgecc.ir.printer import print_graph

        path = self.folder / f"{stem}.ir"
        path.write_text(f"# {header}\n" + print_graph(graph, show_meta=self.show_meta))
        self.files.append(path)

    def start(self, graph: Graph, pipeline: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write("000_input", f"input of pipeline {pipeline!r}", graph)

    def after_pass(self, index: int, name: str, graph: Graph, changed: bool,
                   seconds: float) -> None:
        self._write(f"{index + 1:03d}_{name}", _header("After", name, changed), graph)


class PassTiming(Instrument):
    """Collect the time and change flag of each pass; `report()` formats the table."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, bool, int]] = []

    def after_pass(self, index: int, name: str, graph: Graph, changed: bool,
                   seconds: float) -> None:
        self.rows.append((name, seconds, changed, sum(1 for _ in graph.ops())))

    def report(self) -> str:
        total = sum(r[1] for r in self.rows) or 1e-12
        lines = ["===-------------------------------------------------===",
                 "                  Pass execution timing",
                 "===-------------------------------------------------===",
                 f"  {'time (ms)':>10}  {'share':>6}  {'ops after':>9}  changed  pass"]
        for name, sec, changed, n_ops in self.rows:
            lines.append(f"  {sec * 1e3:10.2f}  {sec / total:6.1%}  {n_ops:9d}  "
                         f"{'yes' if changed else 'no':7}  {name}")
        lines.append(f"  {total * 1e3:10.2f}  100.0%  {'':9}  {'':7}  total")
        return "\n".join(lines)


class VerifyEach(Instrument):
    """Verify the graph after every pass; a broken invariant names the pass that broke it."""

    def after_pass(self, index: int, name: str, graph: Graph, changed: bool,
                   seconds: float) -> None:
        from edgecc.errors import VerifyError

        try:
            graph.verify()
        except VerifyError as exc:
            raise PassError(f"the graph is invalid after pass {name}: {exc}") from exc


class CrashReproducer(Instrument):
    """Keep the graph before each pass; if the pass fails, write it and the pipeline out.

    Writes `<folder>/before_<pass>.json` (graph with constants; `edgecc dump` reads it) and
    `reproduce.txt` with the failing pass and the command that replays it.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else None
        self._before: Graph | None = None
        self._pipeline = ""

    def start(self, graph: Graph, pipeline: str) -> None:
        self._pipeline = pipeline

    def before_pass(self, index: int, name: str, graph: Graph) -> None:
        self._before = graph.copy()

    def on_error(self, index: int, name: str, exc: BaseException) -> str | None:
        from edgecc.ir.serialize import graph_to_json

        if self._before is None:
            return None
        folder = self.folder or Path(tempfile.mkdtemp(prefix="edgecc-crash-"))
        folder.mkdir(parents=True, exist_ok=True)
        graph_file = folder / f"before_{name}.json"
        graph_file.write_text(graph_to_json(self._before))
        (folder / "reproduce.txt").write_text(
            f"pass: {name} (#{index + 1} of pipeline {self._pipeline!r})\n"
            f"error: {type(exc).__name__}: {exc}\n"
            f"replay: edgecc dump {graph_file} --pipeline '{name}'\n")
        return f"crash reproducer written to {folder} (graph before the pass + pipeline)"


class Clock:
    """A tiny monotonic stopwatch."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.t0
