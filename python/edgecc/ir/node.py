"""`Node`: one SSA value of a graph: an op applied to input nodes, with attributes and a type."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from edgecc.ir.types import TensorType, Type

if TYPE_CHECKING:
    from edgecc.ir.graph import Graph

INPUT_OP = "input"
CONST_OP = "const"


class Node:
    """A value in a `Graph`.

    `op` is a dotted registry key (`nn.conv2d`), or `input` / `const` for graph inputs and
    constants. Assigning `inputs` keeps every input's `users` up to date. `meta` is a free
    dict for passes (fusion group, schedule config, source ONNX node ...).
    """

    __slots__ = ("name", "op", "_inputs", "attrs", "type", "meta", "users", "value", "graph")

    def __init__(
        self,
        graph: Graph,
        name: str,
        op: str,
        inputs: Iterable[Node],
        attrs: dict[str, Any],
        type: Type,  # noqa: A002 - the IR's vocabulary
        value: np.ndarray | None = None,
    ) -> None:
        self.graph = graph
        self.name = name
        self.op = op
        self.attrs = attrs
        self.type = type
        self.meta: dict[str, Any] = {}
        self.users: dict[Node, None] = {}
        self.value = value
        self._inputs: tuple[Node, ...] = ()
        self.inputs = tuple(inputs)

    @property
    def inputs(self) -> tuple[Node, ...]:
        return self._inputs

    @inputs.setter
    def inputs(self, new: Iterable[Node]) -> None:
        new = tuple(new)
        for old in self._inputs:
            old.users.pop(self, None)
        self._inputs = new
        for inp in new:
            inp.users[self] = None

    def replace_input(self, old: Node, new: Node) -> None:
        """Replace every use of `old` among this node's inputs by `new`."""
        self.inputs = tuple(new if i is old else i for i in self._inputs)

    @property
    def is_input(self) -> bool:
        return self.op == INPUT_OP

    @property
    def is_const(self) -> bool:
        return self.op == CONST_OP

    @property
    def ttype(self) -> TensorType:
        """The node's type when it is a single tensor (raises for tuple-typed nodes)."""
        if not isinstance(self.type, TensorType):
            raise TypeError(f"node %{self.name} ({self.op}) has tuple type {self.type}")
        return self.type

    @property
    def shape(self) -> tuple[int, ...]:
        return self.ttype.shape

    @property
    def dtype(self) -> str:
        return self.ttype.dtype

    def __repr__(self) -> str:
        return f"<Node %{self.name} = {self.op}>"
