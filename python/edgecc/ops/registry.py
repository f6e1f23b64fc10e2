"""The op registry: one `OpDef` per dotted op name, with separate tables per concern.

An op is declared by its type rule (`register_op`); its numpy reference (`register_ref`) and
its MAC count (`register_macs`) are registered beside it in the op's family file. Later concerns
(schedule templates, layout rules) are separate tables keyed by the same name.

Type rules and references share one calling convention: the op's inputs positionally (types
for the rule, numpy arrays for the reference) and its attributes as keyword arguments, already
normalized (defaults filled in, lists turned into tuples).
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgecc.errors import TypeInferenceError, UnknownOpError, UnsupportedError
from edgecc.ir.types import TensorType, Type


class OpPattern(enum.IntEnum):
    """How an op may fuse with its neighbours (TVM's op patterns)."""

    ELEMWISE = 0
    BROADCAST = 1
    INJECTIVE = 2
    REDUCTION = 3
    OUT_ELEMWISE_FUSABLE = 4
    TUPLE = 7
    OPAQUE = 8


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Attribute default meaning 'the attribute must be given'."""

TypeRule = Callable[..., Type]
RefFn = Callable[..., Any]
MacsFn = Callable[[Sequence[TensorType], Type, Mapping[str, Any]], int]


@dataclass
class OpDef:
    """Everything edgecc knows about one op."""

    name: str
    type_rule: TypeRule
    attrs: dict[str, Any]
    num_inputs: tuple[int, int | None]
    pattern: OpPattern
    doc: str = ""
    ref: RefFn | None = None
    macs: MacsFn | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_OPS: dict[str, OpDef] = {}


def register_op(
    name: str,
    *,
    attrs: Mapping[str, Any] | None = None,
    inputs: int | tuple[int, int | None] = 1,
    pattern: OpPattern = OpPattern.OPAQUE,
) -> Callable[[TypeRule], TypeRule]:
    """Declare an op by its type rule.

    Args:
        name: dotted op name (`nn.conv2d`).
        attrs: attribute names and defaults; `REQUIRED` marks attributes without a default.
        inputs: the number of inputs, or (min, max) with max None for variadic ops.
        pattern: the op's fusion pattern.
    """
    n_in = (inputs, inputs) if isinstance(inputs, int) else inputs

    def wrap(rule: TypeRule) -> TypeRule:
        if name in _OPS:
            raise ValueError(f"op {name!r} registered twice")
        _OPS[name] = OpDef(name, rule, dict(attrs or {}), n_in, pattern, (rule.__doc__ or ""))
        return rule

    return wrap


def register_ref(name: str) -> Callable[[RefFn], RefFn]:
    """Register the numpy reference implementation of an op."""

    def wrap(fn: RefFn) -> RefFn:
        _declared(name).ref = fn
        return fn

    return wrap


def register_macs(name: str) -> Callable[[MacsFn], MacsFn]:
    """Register the multiply-accumulate count of an op: fn(input_types, output_type, attrs)."""

    def wrap(fn: MacsFn) -> MacsFn:
        _declared(name).macs = fn
        return fn

    return wrap


def _declared(name: str) -> OpDef:
    # Registration reads the table directly: going through `get_op` would import every family
    # while the caller's own family is still half-imported.
    if name not in _OPS:
        raise ValueError(f"op {name!r} must be declared with register_op before its other tables")
    return _OPS[name]


def get_op(name: str) -> OpDef:
    """Look up an op; an unknown name raises an error listing close matches."""
    _ensure_loaded()
    try:
        return _OPS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_OPS), n=4, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownOpError(f"unknown op {name!r}{hint}") from None


def list_ops() -> list[str]:
    """All registered op names, sorted."""
    _ensure_loaded()
    return sorted(_OPS)


def _normalize_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_normalize_value(v) for v in value)
    if isinstance(value, np.ndarray):
        return _normalize_value(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeInferenceError(f"attribute value {value!r} of type {type(value).__name__} "
                             "is not an int, float, str, bool, None or tuple of them")


def normalize_attrs(op: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Fill in defaults, reject unknown or missing attributes, turn lists into tuples."""
    opdef = get_op(op)
    unknown = set(attrs) - set(opdef.attrs)
    if unknown:
        raise TypeInferenceError(
            f"op {op}: unknown attribute(s) {sorted(unknown)}; it takes {sorted(opdef.attrs)}")
    out: dict[str, Any] = {}
    for key, default in opdef.attrs.items():
        if key in attrs:
            out[key] = _normalize_value(attrs[key])
        elif default is REQUIRED:
            raise TypeInferenceError(f"op {op}: missing required attribute {key!r}")
        else:
            out[key] = default
    return out


def infer_type(op: str, input_types: Sequence[Type], attrs: Mapping[str, Any]) -> Type:
    """Apply an op's type rule to its input types and (normalized) attributes."""
    opdef = get_op(op)
    lo, hi = opdef.num_inputs
    if len(input_types) < lo or (hi is not None and len(input_types) > hi):
        want = str(lo) if lo == hi else f"{lo}..{'any' if hi is None else hi}"
        raise TypeInferenceError(f"op {op} takes {want} inputs, got {len(input_types)}")
    try:
        return opdef.type_rule(*input_types, **attrs)
    except (TypeInferenceError, UnsupportedError):
        raise
    except Exception as exc:  # a rule that trips over bad inputs: report it as a type error
        shown = ", ".join(str(t) for t in input_types)
        raise TypeInferenceError(f"op {op}({shown}) {dict(attrs)}: {exc}") from exc


_LOADED = False


def _ensure_loaded() -> None:
    # NOTE: [lazy family import] the families register themselves on import; importing them
    # here (once) means `get_op` works whichever module the caller imported first.
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from edgecc.ops import load_all

        load_all()
