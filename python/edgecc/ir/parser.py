"""Parse the IR text form written by `printer.print_graph` back into a `Graph`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecc.errors import EdgeccError, ParseError
from edgecc.ir.graph import Graph
from edgecc.ir.node import Node
from edgecc.ir.types import QuantParams, TensorType, Type, canonical_dtype

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r]+) | (?P<nl>\n) | (?P<comment>\#[^\n]*)
  | (?P<pname>%(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9_.\-/]+))
  | (?P<gname>@[A-Za-z0-9_.\-/]+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<arrow>->)
  | (?P<number>[-+]?(?:(?:inf|nan)\b|\d+\.?\d*(?:[eE][-+]?\d+)?))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<punct>[()\[\]{},=:])
""", re.VERBOSE)


@dataclass
class _Tok:
    kind: str
    text: str
    line: int
    col: int


def _tokenize(text: str) -> list[_Tok]:
    toks, pos, line, line_start = [], 0, 1, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r}", line, pos - line_start + 1)
        kind = m.lastgroup or ""
        if kind == "nl":
            line, line_start = line + 1, m.end()
        elif kind not in ("ws", "comment"):
            toks.append(_Tok(kind, m.group(), line, m.start() - line_start + 1))
        pos = m.end()
    toks.append(_Tok("eof", "", line, pos - line_start + 1))
    return toks


class _Parser:
    def __init__(self, text: str, params: Mapping[str, np.ndarray]) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.params = params
        self.env: dict[str, Node] = {}

    # ---------------------------------------------------------------- token helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def error(self, msg: str, tok: _Tok | None = None) -> ParseError:
        t = tok or self.tok
        return ParseError(f"{msg} (found {t.text!r})" if t.text else msg, t.line, t.col)

    def take(self, kind: str, text: str | None = None) -> _Tok:
        t = self.tok
        if t.kind != kind or (text is not None and t.text != text):
            raise self.error(f"expected {text or kind}")
        self.i += 1
        return t

    def accept(self, kind: str, text: str | None = None) -> bool:
        if self.tok.kind == kind and (text is None or self.tok.text == text):
            self.i += 1
            return True
        return False

    def punct(self, ch: str) -> None:
        self.take("punct", ch)

    def is_punct(self, ch: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == ch

    def name(self) -> str:
        text = self.take("pname").text[1:]
        return json.loads(text) if text.startswith('"') else text

    # ---------------------------------------------------------------- types and values
    def tensor_type(self) -> TensorType:
        t = self.take("ident")
        try:
            dtype = canonical_dtype(t.text)
        except EdgeccError:
            raise self.error("expected a dtype such as f32", t) from None
        self.punct("[")
        dims = []
        while not self.is_punct("]"):
            dims.append(int(self.take("number").text))
            if not self.accept("punct", ","):
                break
        close = self.take("punct", "]")
        layout = None
        # a layout brace touches the `]` (`f32[1,3]{NC}`); `-> f32[4] {` opens the body
        if self.is_punct("{") and self.tok.line == close.line and self.tok.col == close.col + 1:
            self.i += 1
            layout = self.take("ident").text
            self.punct("}")
        quant = None
        if self.tok.kind == "ident" and self.tok.text == "q":
            quant = self.quant()
        return TensorType(tuple(dims), dtype, layout, quant)

    def quant(self) -> QuantParams:
        self.take("ident", "q")
        self.punct("(")
        fields: dict[str, Any] = {}
        while not self.is_punct(")"):
            key = self.take("ident").text
            self.punct("=")
            fields[key] = self.attr_value()
            self.accept("punct", ",")
        self.punct(")")

        def seq(v: Any) -> tuple:
            return v if isinstance(v, tuple) else (v,)

        return QuantParams(tuple(float(s) for s in seq(fields["scale"])),
                           tuple(int(z) for z in seq(fields["zp"])), fields.get("axis"))

    def node_type(self) -> Type:
        if self.accept("punct", "("):
            items = [self.tensor_type()]
            while self.accept("punct", ","):
                items.append(self.tensor_type())
            self.punct(")")
            return tuple(items)
        return self.tensor_type()

    def scalar(self) -> Any:
        t = self.tok
        if t.kind == "number":
            self.i += 1
            body = t.text.lstrip("+-")
            if re.fullmatch(r"\d+", body):
                return int(t.text)
            return float(t.text)
        if t.kind == "string":
            self.i += 1
            return json.loads(t.text)
        if t.kind == "ident" and t.text in ("True", "False", "None"):
            self.i += 1
            return {"True": True, "False": False, "None": None}[t.text]
        raise self.error("expected a value")

    def attr_value(self) -> Any:
        if self.accept("punct", "("):
            items = []
            while not self.is_punct(")"):
                items.append(self.attr_value())
                if not self.accept("punct", ","):
                    break
            self.punct(")")
            return tuple(items)
        return self.scalar()

    def flat_values(self) -> list[Any]:
        self.punct("[")
        out: list[Any] = []
        while not self.is_punct("]"):
            if self.is_punct("["):
                out.extend(self.flat_values())
            else:
                out.append(self.scalar())
            if not self.accept("punct", ","):
                break
        self.punct("]")
        return out

    # ---------------------------------------------------------------- graph
    def lookup(self) -> Node:
        t = self.tok
        name = self.name()
        if name not in self.env:
            raise self.error(f"%{name} is used before it is defined", t)
        return self.env[name]

    def graph(self) -> Graph:
        self.take("ident", "graph")
        g = Graph(self.take("gname").text[1:])
        self.punct("(")
        while not self.is_punct(")"):
            t = self.tok
            name = self.name()
            self.punct(":")
            if name in self.env:
                raise self.error(f"%{name} defined twice", t)
            self.env[name] = g.add_input(name, self.tensor_type())
            if not self.accept("punct", ","):
                break
        self.punct(")")
        self.take("arrow")
        declared_tok = self.tok
        declared = self.node_type()
        self.punct("{")
        while not (self.tok.kind == "ident" and self.tok.text == "return"):
            self.statement(g)
        self.take("ident", "return")
        outs, names = [], []
        while True:
            node = self.lookup()
            outs.append(node)
            names.append(json.loads(self.take("string").text) if self.accept("ident", "as")
                         else node.name)
            if not self.accept("punct", ","):
                break
        self.punct("}")
        self.take("eof")
        g.set_outputs(outs, names)
        got = outs[0].type if len(outs) == 1 else tuple(o.type for o in outs)
        if got != declared:
            raise self.error(f"the signature declares {declared}, the return values are {got}",
                             declared_tok)
        return g

    def statement(self, g: Graph) -> None:
        start = self.tok
        name = self.name()
        if name in self.env:
            raise self.error(f"%{name} defined twice", start)
        self.punct("=")
        if self.accept("ident", "const"):
            ttype = self.tensor_type()
            value = None
            if self.accept("punct", "="):
                flat = self.flat_values()
                if len(flat) != ttype.numel:
                    raise self.error(f"constant %{name} has {len(flat)} values, its type "
                                     f"{ttype} needs {ttype.numel}", start)
                value = np.array(flat, dtype=ttype.dtype).reshape(ttype.shape)
            elif name in self.params:
                value = np.asarray(self.params[name])
                if tuple(value.shape) != ttype.shape:
                    raise self.error(f"params[{name!r}] has shape {value.shape}, the text says "
                                     f"{ttype}", start)
            self.env[name] = g.add_const(value, name=name, type=ttype)
            return
        op_tok = self.take("ident")
        self.punct("(")
        inputs = []
        while not self.is_punct(")"):
            inputs.append(self.lookup())
            if not self.accept("punct", ","):
                break
        self.punct(")")
        attrs: dict[str, Any] = {}
        if self.accept("punct", "{"):
            while not self.is_punct("}"):
                key = self.take("ident").text
                self.punct("=")
                attrs[key] = self.attr_value()
                if not self.accept("punct", ","):
                    break
            self.punct("}")
        self.punct(":")
        ntype = self.node_type()
        try:
            self.env[name] = g.create_node(op_tok.text, inputs, attrs, name=name, type=ntype)
        except EdgeccError as exc:
            raise ParseError(str(exc), op_tok.line, op_tok.col) from exc


def parse_graph(text: str, params: Mapping[str, np.ndarray] | None = None) -> Graph:
    """Parse the text form; `params` supplies values for constants printed without data."""
    return _Parser(text, params or {}).graph()


def parse_type(text: str) -> Type:
    """Parse a type such as `f32[1,3]{NC}` or `(f32[2], i64[])`."""
    p = _Parser(text, {})
    t = p.node_type()
    p.take("eof")
    return t
