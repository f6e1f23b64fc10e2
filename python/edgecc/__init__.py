"""edgecc: a graph-level deep-learning compiler for edge devices, built on Apache TVM."""

__version__ = "0.1.0"
