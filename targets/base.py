"""`Target`: what edgecc compiles for, with its capabilities as plain attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """A compilation target.

    `family` selects schedule templates (`x86`, `arm`, `cortex-m`); `tvm` is the TVM target in
    its JSON-dict form.
    """

    name: str
    family: str
    llvm_triple: str
    mcpu: str
    vector_bits: int
    num_cores: int
    has_int8_dot: bool = False
    features: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def vector_lanes_f32(self) -> int:
        return max(1, self.vector_bits // 32)

    @property
    def tvm(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"kind": "llvm", "mtriple": self.llvm_triple, "mcpu": self.mcpu,
                                "num-cores": self.num_cores}
        spec.update(self.extra)
        return spec

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "llvm_triple": self.llvm_triple,
                "mcpu": self.mcpu, "vector_bits": self.vector_bits, "num_cores": self.num_cores,
                "has_int8_dot": self.has_int8_dot, "tvm": self.tvm}
