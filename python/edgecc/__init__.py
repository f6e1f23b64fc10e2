"""edgecc: a graph-level deep-learning compiler for edge devices, built on Apache TVM."""

__version__ = "0.1.0"


def load(out_dir: str) -> "CompiledModel":  # noqa: F821 - imported lazily (it imports TVM)
    """Load a compiled artifact folder (see `edgecc.runtime.CompiledModel`)."""
    from edgecc.runtime import load as _load

    return _load(out_dir)
