"""The ONNX converter table: one small function per (domain, op type), versioned by opset.

A converter is registered with the opset it applies from; for a model of opset N the converter
with the highest `since` <= N is used:

    @converter("Softmax", since=13)
    def softmax(ctx: ConvertContext, inputs: list[Node | None], *, axis: int = -1) -> Node:
        return ctx.emit("nn.softmax", [inputs[0]], {"axis": axis})

ONNX attributes arrive as keyword arguments, with ONNX's defaults written in the signature; an
attribute the converter does not accept is reported as unsupported. Omitted optional inputs are
None, and the input list is padded with None to the op's formal input count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Converter = Callable[..., Any]

_TABLE: dict[tuple[str, str], list[tuple[int, Converter]]] = {}


def converter(op_type: str, since: int = 1, domain: str = "") -> Callable[[Converter], Converter]:
    """Register `fn` as the converter of `domain::op_type` from opset `since` on."""

    def wrap(fn: Converter) -> Converter:
        entries = _TABLE.setdefault((domain, op_type), [])
        if any(s == since for s, _ in entries):
            raise ValueError(f"converter {domain}::{op_type} since {since} registered twice")
        entries.append((since, fn))
        entries.sort(key=lambda e: e[0])
        return fn

    return wrap


def find_converter(domain: str, op_type: str, opset: int) -> Converter | None:
    """The converter for a model whose `domain` opset is `opset`, or None."""
    _ensure_loaded()
    domain = "" if domain == "ai.onnx" else domain
    best = None
    for since, fn in _TABLE.get((domain, op_type), []):
        if since <= opset:
            best = fn
    return best


def supported_ops() -> dict[tuple[str, str], list[int]]:
    """Every (domain, op type) with the opsets its converters start at."""
    _ensure_loaded()
    return {k: [s for s, _ in v] for k, v in sorted(_TABLE.items())}


# Converter families, imported on first use. A new family is added here.
FAMILIES = ("elementwise", "activation", "reduce", "nn", "transform", "shape", "quantize")
_LOADED = False


def _ensure_loaded() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        import importlib

        for fam in FAMILIES:
            importlib.import_module(f"edgecc.frontend.onnx.converters.{fam}")
