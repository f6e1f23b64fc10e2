"""generic.default: inline injective producers, parallelize outer loops, vectorize inner ones.

Matches every kernel, so every kernel compiles; target templates replace it where speed
matters (convolution, dense).
"""

from __future__ import annotations

from typing import Any

from edgecc.codegen.kernel import Kernel
from edgecc.schedules import common
from edgecc.schedules.space import Config, ConfigSpace
from edgecc.schedules.template import Template, register_template
from edgecc.targets.base import Target


@register_template("generic")
class DefaultTemplate(Template):
    name = "generic.default"

    def matches(self, kernel: Kernel, target: Target) -> bool:
        return True

    def define_space(self, space: ConfigSpace, kernel: Kernel, target: Target) -> None:
        space.define_choice("vectorize", [True, False])

    def default_config(self, kernel: Kernel, target: Target) -> Config:
        return Config({"vectorize": True})

    def apply(self, sch: Any, kernel: Kernel, target: Target, config: Config) -> None:
        common.inline_injective(sch)
        common.reverse_inline_outputs(sch)
        for block in common.child_blocks(sch):
            common.parallel_vectorize(sch, block, lanes=target.vector_lanes_f32,
                                      cores=target.num_cores, vectorize=config["vectorize"])
