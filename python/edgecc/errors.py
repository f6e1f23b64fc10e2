"""The error classes edgecc raises: each names the problem and where it is."""

from __future__ import annotations


class EdgeccError(Exception):
    """Base of every error edgecc raises on purpose; the CLI prints these without a traceback."""


class ModelLoadError(EdgeccError):
    """A model file is missing, unreadable or malformed."""


class UnsupportedError(EdgeccError):
    """The model uses something edgecc does not implement (an op, an opset, an attribute value)."""


class UnsupportedOpsError(UnsupportedError):
    """Several unsupported (domain, op, opset) triples, listed all at once before conversion."""

    def __init__(self, items: list[tuple[str, str, int, list[str]]]) -> None:
        self.items = items
        lines = [f"the model uses {len(items)} unsupported operator(s):"]
        for domain, op, opset, nodes in items:
            shown = ", ".join(repr(n) for n in nodes[:5])
            more = f" and {len(nodes) - 5} more" if len(nodes) > 5 else ""
            lines.append(f"  {domain or 'ai.onnx'}::{op} (opset {opset}) at nodes {shown}{more}")
        super().__init__("\n".join(lines))


class ConversionError(EdgeccError):
    """Converting one ONNX node failed; names the node and its op."""


class ShapeError(EdgeccError):
    """A shape is dynamic where it must be static, or inputs have incompatible shapes."""


class TypeInferenceError(EdgeccError):
    """An op's type rule rejected its inputs or attributes."""


class UnknownOpError(EdgeccError):
    """An op name that is not in the registry."""


class VerifyError(EdgeccError):
    """A graph broke an IR invariant (def-before-use, single definition, types)."""


class ParseError(EdgeccError):
    """The IR text form could not be parsed; names the line and column."""

    def __init__(self, message: str, line: int = 0, col: int = 0) -> None:
        self.line, self.col = line, col
        where = f"line {line}, column {col}: " if line else ""
        super().__init__(f"{where}{message}")


class PassError(EdgeccError):
    """An unknown pass, a bad option, a malformed pipeline string, or a pass that failed."""


class InputError(EdgeccError):
    """Run-time inputs are missing, extra, or of the wrong shape or dtype."""


class InterpreterError(EdgeccError):
    """The reference interpreter failed on a node; names the node and its op."""


class CodegenError(EdgeccError):
    """Lowering, scheduling or building a kernel failed; names the kernel, ops and config."""
