"""`PassContext` (instruments and settings) and `run_pipeline`, which runs passes in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edgecc import config
from edgecc.errors import EdgeccError, PassError
from edgecc.ir.graph import Graph
from edgecc.transform.instruments import (
    Clock,
    CrashReproducer,
    DumpIR,
    Instrument,
    PassTiming,
    PrintIR,
    VerifyEach,
)
from edgecc.transform.pipeline import Pipeline, parse_pipeline


@dataclass
class PassContext:
    """What passes run with: instruments, and a place for passes to leave notes (`stats`)."""

    instruments: list[Instrument] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls, extra: Sequence[Instrument] = ()) -> PassContext:
        """A context with the instruments the EDGECC_* knobs ask for, plus `extra`."""
        inst: list[Instrument] = list(extra)
        debug = config.DEBUG.get()
        if config.VERIFY_EACH.get():
            inst.append(VerifyEach())
        after = config.PRINT_AFTER.get()
        if after == "all":
            inst.append(PrintIR())
        elif after == "changed" or (not after and debug >= 3):
            inst.append(PrintIR(only_changed=True))
        elif after:
            inst.append(PrintIR(passes=[p.strip() for p in after.split(",")]))
        if config.DUMP_DIR.get():
            inst.append(DumpIR(config.DUMP_DIR.get()))
        if debug >= 2 and not any(isinstance(i, PassTiming) for i in inst):
            inst.append(PassTiming())
        inst.append(CrashReproducer(config.REPRODUCER_DIR.get() or None))
        return cls(inst)

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n


def run_pipeline(graph: Graph, pipeline: Pipeline | str, ctx: PassContext | None = None) -> Graph:
    """Run every pass of `pipeline` on `graph` in place; returns the graph.

    A pass that raises is reported as a `PassError` naming the pass (and the crash reproducer
    when one is installed); the original exception is chained.
    """
    if isinstance(pipeline, str):
        pipeline = parse_pipeline(pipeline)
    ctx = ctx if ctx is not None else PassContext.from_env()
    text = str(pipeline)
    for inst in ctx.instruments:
        inst.start(graph, text)
    for index, spec in enumerate(pipeline.passes):
        for inst in ctx.instruments:
            inst.before_pass(index, spec.name, graph)
        clock = Clock()
        try:
            changed = bool(spec.info.fn(graph, ctx, **spec.options))
        except Exception as exc:  # every failure inside a pass is reported with its name
            notes = [n for inst in ctx.instruments if (n := inst.on_error(index, spec.name, exc))]
            suffix = "".join(f"\n  {n}" for n in notes)
            msg = f"pass {spec.name} failed: {exc}" if isinstance(exc, EdgeccError) else \
                f"pass {spec.name} failed: {type(exc).__name__}: {exc}"
            raise PassError(msg + suffix) from exc
        seconds = clock.seconds()
        for inst in ctx.instruments:
            inst.after_pass(index, spec.name, graph, changed, seconds)
    for inst in ctx.instruments:
        inst.finish(graph)
    return graph
