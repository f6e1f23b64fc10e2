"""The x86 GEMM micro-kernel schedule shared by the dense and matmul templates.

Both reduction blocks have the loop nest `batch..., m, n, k` (dense: the leading output dims
but the last one are batch dims; matmul: the broadcast batch dims) and read, for one k, n
consecutive values of the right operand (the packed dense weight `w[j // n, k, j % n]`, or the
matmul's B row `b[k, j]`). The schedule is the classic register-blocked kernel:

    parallel for batch x mo x jo (order knob: m tiles or n tiles outermost)
        acc[mi, jv * lanes] = 0                        # the tile, lives in registers
        for ko:
            unroll for ki:                             # tile_k inner
                unroll for mi: unroll for jv:          # tile_m inner x tile_n inner
                    vector for jl in lanes: acc[mi, jv, jl] += x[m, k] * b[k, j]
        for mi, jv, vector jl: out[m, j] = epilogue(acc[mi, j])   # bias, activation, add, ...

The epilogue (every fused elementwise / broadcast op after the reduction) is inlined into the
write-back of the tile, so the result is written once.

`schedule_dot` is the variant for a plain dense weight w [N, K] (rows contiguous along K): each
output is a dot product, vectorized along K into `lanes` partial sums (rfactor), reduced
horizontally at the end of the tile:

    parallel for batch x mo x jo
        acc[mi, nj, lanes] = 0
        for ko: unroll mi, nj: vector kl: acc[mi, nj, kl] += x[m, ko * lanes + kl] * w[n, ...]
        for kl: vector over nj: y[m, n] += acc[mi, nj, kl]      # horizontal sums
        epilogue on the tile
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgecc.codegen.kernel import Kernel
from edgecc.ops.registry import OpPattern, get_op
from edgecc.schedules import common
from edgecc.schedules.space import Config, ConfigSpace
from edgecc.targets.base import Target

EPILOGUE_PATTERNS = (OpPattern.ELEMWISE, OpPattern.BROADCAST)

# NOTE: [accumulator on the stack] TVM's LowerTVMBuiltin turns every CPU allocation that is not
# "global" scope, or is >= 1024 bytes (runtime::kMaxStackAlloca), into a
# TVMBackendAllocWorkspace / FreeWorkspace call pair; inside the tile loop that is one pair
# per tile, plus the tile's zeroing and write-back going through memory (K=16 attention
# matmuls ran at 2/3 speed). A "global" tile under 1024 bytes becomes an `alloca` that LLVM
# promotes to registers. So the accumulator tiles are "global" scope, and the default tiles
# stay under that size (15 zmm vectors with AVX-512).
ACC_SCOPE = "global"
MAX_STACK_BYTES = 1024


@dataclass(frozen=True)
class GemmShape:
    """The GEMM a kernel computes: `batch` independent [m, k] x [k, n] products."""

    batch: int
    m: int
    n: int
    k: int


def epilogue_ok(kernel: Kernel) -> bool:
    """The anchor comes first and every other node is elementwise / broadcast with the anchor's
    output shape (so the epilogue is computed on the anchor's tile)."""
    anchor = kernel.nodes[0]
    if kernel.anchor is not anchor:
        return False
    for node in kernel.nodes[1:]:
        if isinstance(node.type, tuple) or node.shape != anchor.shape:
            return False
        if get_op(node.op).pattern not in EPILOGUE_PATTERNS:
            return False
    return True


def vector_registers(target: Target) -> int:
    """Architectural vector registers: 32 with AVX-512, else 16 (SSE / AVX2)."""
    return 32 if "avx512f" in target.features else 16


def tile_budget(target: Target) -> int:
    """Vectors a default accumulator tile may hold: ~3/4 of the vector registers (the rest hold
    the loaded operands) and under `MAX_STACK_BYTES` (see [accumulator on the stack])."""
    vector_bytes = target.vector_lanes_f32 * 4
    return max(1, min(vector_registers(target) * 3 // 4, (MAX_STACK_BYTES - 1) // vector_bytes))


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


# NOTE: [padded tiles] the m and n tile knobs are splits (outer, inner) whose last tile may be
# partial: outer = ceil(extent / inner). TVM guards the partial tile with a predicate (per row
# or per vector, outside the vector loop), which costs ~1/3 of the speed, but a prime M (197
# tokens) otherwise gets 1-row tiles that cost more than half. Exact divisors are preferred.
PARTIAL_TILE_COST = 0.65


def define_tile(space: ConfigSpace, name: str, extent: int, max_inner: int) -> None:
    """A split of `extent` into (ceil(extent / inner), inner), inner in 1..max_inner."""
    space.define_choice(name, [tile(extent, i) for i in range(1, min(extent, max_inner) + 1)])


def tile(extent: int, inner: int) -> tuple[int, int]:
    return (-(-extent // inner), inner)


def define_gemm_space(space: ConfigSpace, shape: GemmShape, lanes: int) -> None:
    """The knobs: register tile rows / vectors, K unroll, and which tile loop is outermost."""
    define_tile(space, "tile_m", shape.m, 16)
    define_tile(space, "tile_n", shape.n // lanes, 8)
    space.define_split("tile_k", shape.k, 2, max_inner=16)
    space.define_choice("order", ["mn", "nm"])


def _best_tile(shape: GemmShape, n_extent: int, target: Target, max_m: int,
               max_n: int) -> tuple[int, int]:
    """The register tile (rows, columns) maximizing the FMAs per load, rows * cols / (rows +
    cols), within `tile_budget` vectors, preferring tiles that leave two parallel tasks per core
    and exact splits (a partial tile counts `PARTIAL_TILE_COST`)."""
    budget = tile_budget(target)
    cores = max(1, target.num_cores)
    best: tuple[Any, ...] | None = None
    for mi in range(1, min(shape.m, max_m) + 1):
        for nj in range(1, min(n_extent, max_n) + 1):
            if mi * nj > budget:
                continue
            tasks = shape.batch * tile(shape.m, mi)[0] * tile(n_extent, nj)[0]
            exact = shape.m % mi == 0 and n_extent % nj == 0
            value = mi * nj / (mi + nj) * (1.0 if exact else PARTIAL_TILE_COST)
            key = (min(tasks, 2 * cores), round(value, 3), exact, nj)
            if best is None or key > best[0]:
                best = (key, mi, nj)
    assert best is not None
    return best[1], best[2]


def default_gemm_config(shape: GemmShape, target: Target, *, b_bytes: int) -> Config:
    """Untuned choice from the workload and the target.

    The register tile mi x jv (rows x vectors) is `_best_tile` with at most 16 rows and 8
    vectors (the rest of the registers hold the loaded B vectors and the broadcast A value).
    K is unrolled by the largest divisor <= 4. The n tiles are outermost when the B operand
    (weights) is larger than A, so one B panel stays in cache across the m tiles.
    """
    nb = shape.n // target.vector_lanes_f32
    mi, jv = _best_tile(shape, nb, target, 16, 8)
    ki = max(d for d in divisors(shape.k) if d <= 4)
    a_bytes = shape.batch * shape.m * shape.k * 4
    order = "nm" if b_bytes > a_bytes else "mn"
    return Config({"tile_m": tile(shape.m, mi), "tile_n": tile(nb, jv),
                   "tile_k": (shape.k // ki, ki), "order": order})


def _find_gemm_block(sch: Any) -> Any:
    blocks = [b for b in common.child_blocks(sch) if common.is_reduction(sch, b)]
    if len(blocks) != 1:
        raise ValueError(f"expected one reduction block, found {len(blocks)}")
    return blocks[0]


def schedule_gemm(sch: Any, target: Target, config: Config, n_batch: int) -> None:
    """Schedule a kernel whose one reduction block has loops `batch (n_batch)..., m, n, k`,
    followed by an optional elementwise epilogue. Needs n divisible by the lanes."""
    lanes = target.vector_lanes_f32
    common.inline_injective(sch)
    gemm = _find_gemm_block(sch)
    outputs = list(sch.get_output_blocks(sch.get_sblock("root")))
    gemm_name = common.block_name(sch, gemm)
    epilogue = [b for b in outputs if common.block_name(sch, b) != gemm_name]
    writeback = sch.cache_write(gemm, 0, ACC_SCOPE)

    loops = list(sch.get_loops(gemm))
    if len(loops) != n_batch + 3:
        raise ValueError(f"expected {n_batch + 3} loops, got {len(loops)}")
    batch, (m, n, k) = loops[:n_batch], loops[n_batch:]
    mo, mi = sch.split(m, factors=list(config["tile_m"]))
    jo, jv, jl = sch.split(n, factors=[*config["tile_n"], lanes])
    ko, ki = sch.split(k, factors=list(config["tile_k"]))
    outer = [mo, jo] if config["order"] == "mn" else [jo, mo]
    sch.reorder(*batch, *outer, ko, ki, mi, jv, jl)

    # the write-back (with the epilogue folded in) runs on the tile, right after its k loop
    sch.reverse_compute_at(writeback, outer[-1], preserve_unit_loops=True)
    for block in epilogue:
        try:
            sch.reverse_compute_inline(block)
        except Exception:  # noqa: BLE001 - e.g. it reads the result twice: compute it at the tile
            sch.reverse_compute_at(block, outer[-1], preserve_unit_loops=True)
    for block in [writeback, *[b for b in epilogue if _alive(sch, b)]]:
        _vectorize_tile(sch, block, n_batch + 2, lanes)

    par = sch.fuse(*batch, *outer)
    if _extent(sch, par) > 1 and target.num_cores > 1:
        sch.parallel(par)
    sch.vectorize(jl)
    sch.unroll(jv)
    sch.unroll(mi)
    if config["tile_k"][1] > 1:
        sch.unroll(ki)
    sch.decompose_reduction(gemm, ko)


def _alive(sch: Any, block: Any) -> bool:
    try:
        sch.get(block)
        return True
    except Exception:  # noqa: BLE001 - inlined away
        return False


def _extent(sch: Any, loop: Any) -> int:
    return common.loop_extent(sch, loop)


def _vectorize_tile(sch: Any, block: Any, n_outer: int, lanes: int) -> None:
    """Vectorize the innermost (n) loop of a tile block placed under `n_outer` loops."""
    loops = list(sch.get_loops(block))[n_outer:]
    if not loops:
        return
    last = loops[-1]
    ext = _extent(sch, last)
    if ext > lanes and ext % lanes == 0:
        _, last = sch.split(last, factors=[None, lanes])
    if ext % lanes == 0 or ext < lanes:
        sch.vectorize(last)


# --------------------------------------------------------------------------- dot-product form
def define_dot_space(space: ConfigSpace, shape: GemmShape) -> None:
    """The knobs of the dot-product kernel: rows x weight rows of the tile, tile loop order."""
    define_tile(space, "tile_m", shape.m, 8)
    define_tile(space, "tile_n", shape.n, 16)
    space.define_choice("order", ["mn", "nm"])


def default_dot_config(shape: GemmShape, target: Target) -> Config:
    """Untuned choice: the tile mi x nj (x rows x weight rows, each a vector of partial sums)
    is `_best_tile` with at most 8 a side; n tiles outermost (one weight panel reused across
    the m tiles) when there are more outputs per row than rows."""
    mi, nj = _best_tile(shape, shape.n, target, 8, 8)
    order = "nm" if shape.n > shape.batch * shape.m else "mn"
    return Config({"tile_m": tile(shape.m, mi), "tile_n": tile(shape.n, nj), "order": order})


def schedule_dot(sch: Any, target: Target, config: Config, n_batch: int) -> None:
    """Schedule a kernel whose one reduction block has loops `batch (n_batch)..., m, n, k`
    with both operands contiguous along k (K divisible by the lanes), plus an optional
    elementwise epilogue."""
    lanes = target.vector_lanes_f32
    common.inline_injective(sch)
    final = _find_gemm_block(sch)
    final_name = common.block_name(sch, final)
    outputs = list(sch.get_output_blocks(sch.get_sblock("root")))
    epilogue = [b for b in outputs if common.block_name(sch, b) != final_name]

    loops = list(sch.get_loops(final))
    if len(loops) != n_batch + 3:
        raise ValueError(f"expected {n_batch + 3} loops, got {len(loops)}")
    _, kl = sch.split(loops[-1], factors=[None, lanes])
    partial = sch.rfactor(kl, n_batch + 2)  # partial sums [batch..., m, n, lanes]
    sch.set_scope(partial, 0, ACC_SCOPE)
    loops = list(sch.get_loops(partial))
    batch, (m, n, ko, kl) = loops[:n_batch], loops[n_batch:]
    mo, mi = sch.split(m, factors=list(config["tile_m"]))
    jo, nj = sch.split(n, factors=list(config["tile_n"]))
    outer = [mo, jo] if config["order"] == "mn" else [jo, mo]
    sch.reorder(*batch, *outer, ko, mi, nj, kl)

    # the horizontal sums, then the epilogue, on the tile
    sch.reverse_compute_at(final, outer[-1], preserve_unit_loops=True)
    # its loops follow its iter vars (lanes, batch..., m, n): vector over n, a lane at a time
    sch.vectorize(sch.get_loops(final)[-1])
    for block in epilogue:
        sch.reverse_compute_at(block, outer[-1], preserve_unit_loops=True)
        _vectorize_tile(sch, block, n_batch + 2, lanes)
    if epilogue:  # the sums are an intermediate: a per-tile buffer, private to the thread
        sch.set_scope(final, 0, ACC_SCOPE)

    par = sch.fuse(*batch, *outer)
    if _extent(sch, par) > 1 and target.num_cores > 1:
        sch.parallel(par)
    sch.vectorize(kl)
    sch.unroll(nj)
    sch.unroll(mi)
    sch.decompose_reduction(partial, ko)
