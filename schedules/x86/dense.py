"""x86 schedule templates: dense (`x86.dense_packed`, `x86.dense`) and matmul (`x86.matmul`).

All drive the register-blocked kernels of `schedules/x86/gemm.py`: an accumulator tile of
`tile_m` rows x `tile_n` columns (vectors of `target.vector_lanes_f32` floats) kept in
registers, the fused epilogue computed on the tile, the outer batch x m-tile x n-tile loops
parallel. They match float32 kernels whose anchor comes first and whose other nodes are
elementwise / broadcast ops of the anchor's shape (bias, activations, residual add, masks).

- `x86.dense_packed`: `nn.dense` with `weight_layout="NK{n}n"`, n == the target's lanes
  (`pack-dense-weights{n-block=<lanes>}` makes it): the n weights of one k are one vector
  load; K is unrolled by `tile_k`. x [..., M, K]: the dims before M are batch dims. M = 1
  (GEMV) parallelizes over the n tiles.
- `x86.dense`: `nn.dense` with a plain [N, K] weight (N not a multiple of the lanes, e.g.
  the 1000-class classifier, or a run-time weight) and K a multiple of the lanes: dot products
  vectorized along K, summed horizontally at the end of the tile.
- `x86.matmul`: `nn.matmul` with both operands at least 2-D and N a multiple of the lanes
  (B [.., K, N] is contiguous along N, so it is vectorized directly; batch dims broadcast).
"""

from __future__ import annotations

import math
from typing import Any

from edgecc.codegen.kernel import Kernel
from edgecc.ops.nn import dense_block
from edgecc.schedules.space import Config, ConfigSpace
from edgecc.schedules.template import Template, register_template
from edgecc.schedules.x86 import gemm
from edgecc.targets.base import Target


def _all_f32(kernel: Kernel) -> bool:
    anchor = kernel.nodes[0]
    return all(t.dtype == "float32" for t in (*[i.ttype for i in anchor.inputs], anchor.ttype))


# --------------------------------------------------------------------------- dense
def _dense_shape(kernel: Kernel) -> gemm.GemmShape:
    x, out = kernel.nodes[0].inputs[0], kernel.nodes[0]
    return gemm.GemmShape(batch=math.prod(x.shape[:-2]), m=x.shape[-2], n=out.shape[-1],
                          k=x.shape[-1])


@register_template("x86")
class DensePackedTemplate(Template):
    """nn.dense with an N-blocked weight (NK{lanes}n) and its fused epilogue."""

    name = "x86.dense_packed"

    def matches(self, kernel: Kernel, target: Target) -> bool:
        anchor = kernel.nodes[0]
        if anchor.op != "nn.dense" or not gemm.epilogue_ok(kernel) or not _all_f32(kernel):
            return False
        try:
            block = dense_block(anchor.attrs.get("weight_layout", "NK"))
        except Exception:  # noqa: BLE001 - an unknown layout: not ours
            return False
        return block == target.vector_lanes_f32 and len(anchor.inputs[0].shape) >= 2

    def define_space(self, space: ConfigSpace, kernel: Kernel, target: Target) -> None:
        gemm.define_gemm_space(space, _dense_shape(kernel), target.vector_lanes_f32)

    def default_config(self, kernel: Kernel, target: Target) -> Config:
        shape = _dense_shape(kernel)
        return gemm.default_gemm_config(shape, target, b_bytes=shape.n * shape.k * 4)

    def apply(self, sch: Any, kernel: Kernel, target: Target, config: Config) -> None:
        n_batch = len(kernel.nodes[0].inputs[0].shape) - 2
        gemm.schedule_gemm(sch, target, config, n_batch)


@register_template("x86")
class DenseTemplate(Template):
    """nn.dense with a plain weight [N, K] (a run-time weight, or N not a multiple of the
    lanes, so not packed): dot products vectorized along K."""

    name = "x86.dense"

    def matches(self, kernel: Kernel, target: Target) -> bool:
        anchor = kernel.nodes[0]
        if anchor.op != "nn.dense" or not gemm.epilogue_ok(kernel) or not _all_f32(kernel):
            return False
        x = anchor.inputs[0]
        return (anchor.attrs.get("weight_layout", "NK") == "NK" and len(x.shape) >= 2
                and x.shape[-1] % target.vector_lanes_f32 == 0)

    def define_space(self, space: ConfigSpace, kernel: Kernel, target: Target) -> None:
        gemm.define_dot_space(space, _dense_shape(kernel))

    def default_config(self, kernel: Kernel, target: Target) -> Config:
        return gemm.default_dot_config(_dense_shape(kernel), target)

    def apply(self, sch: Any, kernel: Kernel, target: Target, config: Config) -> None:
        gemm.schedule_dot(sch, target, config, len(kernel.nodes[0].inputs[0].shape) - 2)


# --------------------------------------------------------------------------- matmul
def _matmul_shape(kernel: Kernel) -> gemm.GemmShape:
    anchor = kernel.nodes[0]
    a, out = anchor.inputs[0], anchor
    return gemm.GemmShape(batch=math.prod(out.shape[:-2]), m=out.shape[-2], n=out.shape[-1],
                          k=a.shape[-1])


@register_template("x86")
class MatmulTemplate(Template):
    """nn.matmul of two run-time operands [.., M, K] x [.., K, N] and its fused epilogue."""

    name = "x86.matmul"

    def matches(self, kernel: Kernel, target: Target) -> bool:
        anchor = kernel.nodes[0]
        if anchor.op != "nn.matmul" or not gemm.epilogue_ok(kernel) or not _all_f32(kernel):
            return False
        a, b = anchor.inputs
        if len(a.shape) < 2 or len(b.shape) < 2:
            return False
        return anchor.shape[-1] % target.vector_lanes_f32 == 0

    def define_space(self, space: ConfigSpace, kernel: Kernel, target: Target) -> None:
        gemm.define_gemm_space(space, _matmul_shape(kernel), target.vector_lanes_f32)

    def default_config(self, kernel: Kernel, target: Target) -> Config:
        shape = _matmul_shape(kernel)
        b = kernel.nodes[0].inputs[1]
        return gemm.default_gemm_config(shape, target, b_bytes=math.prod(b.shape) * 4)

    def apply(self, sch: Any, kernel: Kernel, target: Target, config: Config) -> None:
        gemm.schedule_gemm(sch, target, config, len(kernel.nodes[0].shape) - 2)
