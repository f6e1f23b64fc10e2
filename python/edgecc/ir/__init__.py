"""edgecc's typed graph IR: `TensorType`, `Node`, `Graph`, and their text/JSON/DOT forms."""

from edgecc.ir.graph import Graph
from edgecc.ir.node import CONST_OP, INPUT_OP, Node
from edgecc.ir.types import QuantParams, TensorType, Type, type_of_array

__all__ = ["CONST_OP", "INPUT_OP", "Graph", "Node", "QuantParams", "TensorType", "Type",
           "type_of_array"]
