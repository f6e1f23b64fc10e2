"""Schedule building blocks shared by templates: inlining, outer parallelism, vectorization."""

from __future__ import annotations

from typing import Any

# s_tir IterVar kinds
DATA_PAR = 0
COMM_REDUCE = 2


def child_blocks(sch: Any) -> list[Any]:
    return list(sch.get_child_blocks(sch.get_sblock("root")))


def block_name(sch: Any, block: Any) -> str:
    return str(sch.get(block).name_hint)


def iter_kinds(sch: Any, block: Any) -> list[int]:
    return [int(iv.iter_type) for iv in sch.get(block).iter_vars]


def is_reduction(sch: Any, block: Any) -> bool:
    return COMM_REDUCE in iter_kinds(sch, block)


def inline_injective(sch: Any, keep: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """compute_inline every block it can, except outputs and blocks named in `keep`."""
    outputs = {block_name(sch, b) for b in sch.get_output_blocks(sch.get_sblock("root"))}
    changed = True
    while changed:
        changed = False
        for block in child_blocks(sch):
            name = block_name(sch, block)
            if name in outputs or name in keep or is_reduction(sch, block):
                continue
            try:
                sch.compute_inline(block)
                changed = True
            except Exception:  # noqa: BLE001 - not inlinable here (TVM says why); keep the block
                continue


def reverse_inline_outputs(sch: Any) -> None:
    """Fold injective output blocks into their (non-reduction) producer where TVM allows it."""
    for block in list(sch.get_output_blocks(sch.get_sblock("root"))):
        if is_reduction(sch, block):
            continue
        try:
            sch.reverse_compute_inline(block)
        except Exception:  # noqa: BLE001 - e.g. the producer is a reduction: keep both
            continue


def leading_spatial(sch: Any, block: Any) -> list[Any]:
    """The loops over the block's leading data-parallel axes (valid before loop transforms)."""
    loops = list(sch.get_loops(block))
    kinds = iter_kinds(sch, block)
    out = []
    for loop, kind in zip(loops, kinds):
        if kind != DATA_PAR:
            break
        out.append(loop)
    return out


def loop_extent(sch: Any, loop: Any) -> int:
    ext = sch.get(loop).extent
    return int(ext) if hasattr(ext, "value") or isinstance(ext, int) else -1


def parallel_vectorize(sch: Any, block: Any, *, lanes: int, cores: int,
                       vectorize: bool = True) -> None:
    """Parallelize the outer spatial loops of `block` and vectorize its inner one if it can."""
    spatial = leading_spatial(sch, block)
    if not spatial:
        return
    reduction = is_reduction(sch, block)
    inner = None
    if vectorize and not reduction and len(spatial) >= 1:
        last = spatial[-1]
        ext = loop_extent(sch, last)
        if ext >= lanes and ext % lanes == 0:
            outer_part, inner = sch.split(last, factors=[None, lanes])
            spatial = spatial[:-1] + [outer_part]
        elif 2 <= ext <= 4 * lanes:
            inner = last
            spatial = spatial[:-1]
    if spatial:
        # fuse leading loops until there is enough work for the cores
        chosen = [spatial[0]]
        work = loop_extent(sch, spatial[0])
        for loop in spatial[1:]:
            if work >= 4 * cores:
                break
            chosen.append(loop)
            work *= loop_extent(sch, loop)
        fused = sch.fuse(*chosen) if len(chosen) > 1 else chosen[0]
        if work > 1 and cores > 1:
            sch.parallel(fused)
    if inner is not None:
        try:
            sch.vectorize(inner)
        except Exception:  # noqa: BLE001 - a body TVM cannot vectorize stays scalar
            pass
