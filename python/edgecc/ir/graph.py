"""`Graph`: an ordered list of SSA nodes with inputs, constants and named outputs.

Editing follows PyTorch FX: `create_node` inserts at the current insertion point
(`inserting_before` / `inserting_after`), `replace_all_uses_with` rewires users and outputs,
`erase_node` removes a node without users. Iterate over `list(graph.nodes)` to mutate safely.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from edgecc.errors import EdgeccError, VerifyError
from edgecc.ir.node import CONST_OP, INPUT_OP, Node
from edgecc.ir.types import TensorType, Type, type_of_array

_NAME_OK = re.compile(r"^[A-Za-z0-9_.\-/]+$")


def type_refines(given: Type, inferred: Type) -> bool:
    """True when `given` equals `inferred` or only adds a layout / quantization it leaves open."""
    if isinstance(given, tuple) or isinstance(inferred, tuple):
        return (isinstance(given, tuple) and isinstance(inferred, tuple)
                and len(given) == len(inferred)
                and all(type_refines(a, b) for a, b in zip(given, inferred)))
    return (given.shape == inferred.shape and given.dtype == inferred.dtype
            and inferred.layout in (None, given.layout) and inferred.quant in (None, given.quant))


def valid_name(name: str) -> bool:
    """True when a name prints bare in the text form (else it is quoted)."""
    return bool(_NAME_OK.match(name))


class Graph:
    """A computation graph in SSA form."""

    def __init__(self, name: str = "main") -> None:
        self.name = name
        self._nodes: list[Node] = []
        self._names: dict[str, Node] = {}
        self.inputs: list[Node] = []
        self.outputs: list[Node] = []
        self.output_names: list[str] = []
        self._insert_at: tuple[str, Node] | None = None
        self._counter = 0

    # ------------------------------------------------------------------ reading
    @property
    def nodes(self) -> list[Node]:
        """All nodes in order (inputs and constants included). Do not mutate the list."""
        return self._nodes

    def ops(self) -> Iterator[Node]:
        """Nodes that are neither graph inputs nor constants."""
        return (n for n in self._nodes if n.op not in (INPUT_OP, CONST_OP))

    @property
    def constants(self) -> dict[str, np.ndarray]:
        return {n.name: n.value for n in self._nodes if n.op == CONST_OP and n.value is not None}

    def node(self, name: str) -> Node:
        try:
            return self._names[name]
        except KeyError:
            raise EdgeccError(f"graph @{self.name} has no node %{name}") from None

    def has_node(self, name: str) -> bool:
        return name in self._names

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        return isinstance(node, Node) and self._names.get(node.name) is node

    # ------------------------------------------------------------------ naming
    def unique_name(self, base: str | None = None) -> str:
        """A name not used in the graph: `base`, or `base_1`, `base_2` ...; a number if None."""
        if base is None:
            while True:
                self._counter += 1
                if str(self._counter) not in self._names:
                    return str(self._counter)
        if base not in self._names:
            return base
        i = 1
        while f"{base}_{i}" in self._names:
            i += 1
        return f"{base}_{i}"

    def rename(self, node: Node, new_name: str) -> None:
        if new_name in self._names and self._names[new_name] is not node:
            raise EdgeccError(f"name %{new_name} is already used")
        del self._names[node.name]
        node.name = new_name
        self._names[new_name] = node

    # ------------------------------------------------------------------ building
    def add_input(self, name: str, type: TensorType) -> Node:  # noqa: A002
        """Append a graph input (inputs are kept first, in signature order)."""
        if name in self._names:
            raise EdgeccError(f"duplicate name %{name}")
        node = Node(self, name, INPUT_OP, (), {}, type)
        self._nodes.insert(len(self.inputs), node)
        self._names[name] = node
        self.inputs.append(node)
        return node

    def add_const(self, value: np.ndarray | None, name: str | None = None,
                  type: TensorType | None = None) -> Node:  # noqa: A002
        """Insert a constant at the insertion point; `value` None leaves its data unknown."""
        if value is not None:
            value = np.asarray(value)
            if type is None:
                type = type_of_array(value)
        if type is None:
            raise EdgeccError("a constant needs a value or a type")
        return self._insert(Node(self, self.unique_name(name or "c"), CONST_OP, (), {}, type,
                                 value))

    def create_node(
        self,
        op: str,
        inputs: Sequence[Node],
        attrs: Mapping[str, Any] | None = None,
        name: str | None = None,
        type: Type | None = None,  # noqa: A002
    ) -> Node:
        """Insert `op(inputs) {attrs}`; attributes are normalized and the type inferred.

        A given `type` must agree with the op's type rule.
        """
        from edgecc.ops.registry import infer_type, normalize_attrs

        for inp in inputs:
            if inp not in self:
                raise EdgeccError(f"input %{inp.name} of new {op} node is not in this graph")
        norm = normalize_attrs(op, attrs or {})
        inferred = infer_type(op, [i.type for i in inputs], norm)
        if type is not None and not type_refines(type, inferred):
            raise VerifyError(f"{op} node %{name}: given type {type} but the rule gives {inferred}")
        node = Node(self, self.unique_name(name), op, inputs, norm, type or inferred)
        return self._insert(node)

    def _insert(self, node: Node) -> Node:
        self._names[node.name] = node
        if self._insert_at is None:
            self._nodes.append(node)
        else:
            where, anchor = self._insert_at
            idx = self._nodes.index(anchor) + (1 if where == "after" else 0)
            self._nodes.insert(idx, node)
            if where == "after":
                self._insert_at = ("after", node)
        return node

    @contextlib.contextmanager
    def inserting_before(self, node: Node) -> Iterator[None]:
        saved, self._insert_at = self._insert_at, ("before", node)
        try:
            yield
        finally:
            self._insert_at = saved

    @contextlib.contextmanager
    def inserting_after(self, node: Node) -> Iterator[None]:
        saved, self._insert_at = self._insert_at, ("after", node)
        try:
            yield
        finally:
            self._insert_at = saved

    def set_outputs(self, nodes: Sequence[Node], names: Sequence[str] | None = None) -> None:
        self.outputs = list(nodes)
        self.output_names = list(names) if names is not None else [n.name for n in nodes]

    # ------------------------------------------------------------------ editing
    def replace_all_uses_with(self, old: Node, new: Node) -> int:
        """Point every user of `old`, and every output that is `old`, at `new`; returns uses."""
        count = 0
        for user in list(old.users):
            user.replace_input(old, new)
            count += 1
        for i, out in enumerate(self.outputs):
            if out is old:
                self.outputs[i] = new
                count += 1
        return count

    def erase_node(self, node: Node) -> None:
        """Remove a node that has no users and is not an output."""
        if node.users:
            users = ", ".join(f"%{u.name}" for u in node.users)
            raise EdgeccError(f"cannot erase %{node.name}: still used by {users}")
        if any(o is node for o in self.outputs):
            raise EdgeccError(f"cannot erase %{node.name}: it is a graph output")
        node.inputs = ()
        self._nodes.remove(node)
        del self._names[node.name]
        if node.op == INPUT_OP:
            self.inputs.remove(node)

    def move_before(self, node: Node, anchor: Node) -> None:
        """Move `node` right before `anchor` (the caller keeps def-before-use true)."""
        self._nodes.remove(node)
        self._nodes.insert(self._nodes.index(anchor), node)

    def is_output(self, node: Node) -> bool:
        return any(o is node for o in self.outputs)

    # ------------------------------------------------------------------ whole-graph
    def copy(self) -> Graph:
        """A structural copy; constant arrays are shared (treat them as immutable)."""
        g = Graph(self.name)
        remap: dict[Node, Node] = {}
        for n in self._nodes:
            new = Node(g, n.name, n.op, [remap[i] for i in n.inputs], dict(n.attrs), n.type,
                       n.value)
            new.meta = dict(n.meta)
            g._nodes.append(new)
            g._names[n.name] = new
            remap[n] = new
        g.inputs = [remap[n] for n in self.inputs]
        g.outputs = [remap[n] for n in self.outputs]
        g.output_names = list(self.output_names)
        g._counter = self._counter
        return g

    def topo_sort(self) -> None:
        """Reorder nodes so every input comes before its users (stable where already so)."""
        order: list[Node] = []
        seen: set[Node] = set()
        for root in self._nodes:
            if root in seen:
                continue
            stack: list[tuple[Node, int]] = [(root, 0)]
            while stack:
                node, i = stack.pop()
                if i < len(node.inputs):
                    stack.append((node, i + 1))
                    child = node.inputs[i]
                    if child not in seen:
                        stack.append((child, 0))
                elif node not in seen:
                    seen.add(node)
                    order.append(node)
        inputs = [n for n in order if n.op == INPUT_OP]
        self._nodes = inputs + [n for n in order if n.op != INPUT_OP]

    def verify(self) -> None:
        """Check the IR invariants; raises `VerifyError` naming the first broken one."""
        from edgecc.ir.verify import verify

        verify(self)

    def __str__(self) -> str:
        from edgecc.ir.printer import print_graph

        return print_graph(self)
