"""TE compute rules: how each IR op is expressed in TVM's tensor expression language."""

from edgecc.codegen.compute.registry import get_compute, has_compute, register_compute

__all__ = ["get_compute", "has_compute", "register_compute"]
