"""x86.conv2d_nchwc: blocked (NCHW[x]c) direct convolution with a register tile of accumulators.

Matches kernels whose anchor is a float32 nn.conv2d with blocked weights (kernel_layout
`OIHW{i}i{o}o`, set by `pack-conv-weights`) whose output block o is the target's float32
vector width, or half of it. The compute (`edgecc.codegen.compute.conv_blocked`) gives three
named stages, `data_pack` -> `conv_nchwc` -> `conv_unpack`, then the fused epilogue (bias
add, relu, clip, residual add, ...). The loop nest:

    data_pack: parallel over (n, C/i, rows), vectorized over i   (`pack_at`=row: per tile row)
    parallel for (n, oc_outer, oh_outer):       fused (`outer_order` swaps oc and oh); with
                                                too few for the cores, ow_outer joins in
      for ow_outer:
        acc[tile_oc][tile_oh][tile_ow][o] = 0   cache_write "local": registers
        for ic_outer, kh, kw, ic_inner:         kw / ic_inner unrolled per knob
          for oc_t, oh_t, ow_t: (unrolled)  vector(o): acc += data (broadcast) * w (vector)
        for the tile: out[n, c, h, w] = epilogue(acc + bias)   NCHW, each element written once
                                                (unpack and epilogue reverse-inlined)

Depthwise convolutions have no ic loops (the reduction is kh, kw) and no oc tile: the register
tile is tile_oh x tile_ow vectors of o channels. Knobs: `tile_ow`, `tile_oh`, `tile_oc` (the
register tile, as splits), `unroll_ic`, `unroll_kw`, `outer_order`, `store` (vectorize the
write-back over o, or over ow after a transpose) and `pack_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgecc.codegen.compute.conv_blocked import CONV, DATA_PACK, is_depthwise
from edgecc.codegen.kernel import Kernel
from edgecc.ops.nn_conv import kernel_blocks, kernel_oihw_shape
from edgecc.schedules import common
from edgecc.schedules.space import Config, ConfigSpace
from edgecc.schedules.template import Template, register_template
from edgecc.targets.base import Target


@dataclass(frozen=True)
class ConvShape:
    """The numbers of a blocked conv2d kernel that the schedule depends on."""

    n: int
    c: int
    oc: int
    oh: int
    ow: int
    kh: int
    kw: int
    ib: int
    ob: int
    depthwise: bool

    @property
    def oc_blocks(self) -> int:
        return self.oc // self.ob


def conv_shape(kernel: Kernel) -> ConvShape | None:
    """The anchor conv's shape, or None when the anchor is not a blocked float32 conv2d."""
    conv = kernel.anchor
    if conv.op != "nn.conv2d" or conv.dtype != "float32":
        return None
    layout = conv.attrs.get("kernel_layout", "OIHW")
    blocks = kernel_blocks(layout)
    if blocks is None:
        return None
    ib, ob = blocks
    oc, cg, kh, kw = kernel_oihw_shape("nn.conv2d", conv.inputs[1].ttype, layout)
    n, c = conv.inputs[0].shape[:2]
    _, _, oh, ow = conv.shape
    return ConvShape(n, c, oc, oh, ow, kh, kw, ib, ob,
                     is_depthwise(c, oc, conv.attrs["groups"], cg))


def vector_registers(target: Target) -> int:
    """Architectural vector registers: 32 with AVX-512, 16 with AVX2/SSE."""
    return 32 if "avx512f" in target.features else 16


def _divisors(n: int, limit: int) -> list[int]:
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def register_tile(shape: ConvShape, registers: int) -> tuple[int, int, int]:
    """(oc_t, oh_t, ow_t) blocks of o channels x rows x columns held in registers.

    NOTE: [register tile] measured on znver4 (3x3 convs at 56, 28, 14, 7; MobileNetV2's 1x1):
    about half the vector registers as accumulators is fastest (16 of 32: ow 8 x oc 2 reaches
    ~110 GFLOP/s on one core; 28 accumulators only ~50, as LLVM then keeps every broadcast
    operand in a register and spills). The choice, in order: rows of at least 4 columns (or
    the whole row); at least 3/4 of that budget; two or more channel blocks, so that each
    broadcast input feeds several FMAs; the most accumulators; one output row; wider rows.
    """
    budget = max(2, registers // 2)
    min_ow = min(4, shape.ow)
    best: tuple[tuple[int, ...], tuple[int, int, int]] | None = None
    oc_choices = [1] if shape.depthwise else _divisors(shape.oc_blocks, 4)
    for oc_t in oc_choices:
        for ow_t in _divisors(shape.ow, budget // oc_t):
            for oh_t in _divisors(shape.oh, min(4, budget // (oc_t * ow_t))):
                accs = oc_t * ow_t * oh_t
                score = (ow_t >= min_ow, 4 * accs >= 3 * budget, min(oc_t, 2), accs, -oh_t,
                         ow_t)
                if best is None or score > best[0]:
                    best = (score, (oc_t, oh_t, ow_t))
    assert best is not None
    return best[1]


@register_template("x86")
class Conv2dNCHWc(Template):
    name = "x86.conv2d_nchwc"

    def matches(self, kernel: Kernel, target: Target) -> bool:
        # o is a vector of float32: the full width, or half of it (`min-oc-block`'s blocks of
        # 8 for 24-channel convs, as ymm registers under AVX-512)
        shape = conv_shape(kernel)
        lanes = target.vector_lanes_f32
        return shape is not None and lanes > 1 and shape.ob in (lanes, lanes // 2)

    # ------------------------------------------------------------------ knobs
    def define_space(self, space: ConfigSpace, kernel: Kernel, target: Target) -> None:
        shape = conv_shape(kernel)
        assert shape is not None
        regs = vector_registers(target)
        space.define_split("tile_ow", shape.ow, 2, max_inner=regs)
        space.define_split("tile_oh", shape.oh, 2, max_inner=4)
        if not shape.depthwise:
            space.define_split("tile_oc", shape.oc_blocks, 2, max_inner=4)
            space.define_choice("unroll_ic", [True, False])
            space.define_choice("outer_order", ["oc_oh", "oh_oc"])
        if shape.kw > 1:
            space.define_choice("unroll_kw", [True, False])
        space.define_choice("store", ["o", "ow"])
        space.define_choice("pack_at", ["root", "row"])

    def default_config(self, kernel: Kernel, target: Target) -> Config:
        shape = conv_shape(kernel)
        assert shape is not None
        oc_t, oh_t, ow_t = register_tile(shape, vector_registers(target))
        config: list[tuple[str, Any]] = [("tile_ow", (shape.ow // ow_t, ow_t)),
                                         ("tile_oh", (shape.oh // oh_t, oh_t))]
        if not shape.depthwise:
            config += [("tile_oc", (shape.oc_blocks // oc_t, oc_t)), ("unroll_ic", False),
                       ("outer_order", "oc_oh")]
        if shape.kw > 1:
            config.append(("unroll_kw", True))
        return Config([*config, ("store", "o"), ("pack_at", "root")])

    # ------------------------------------------------------------------ schedule
    def apply(self, sch: Any, kernel: Kernel, target: Target, config: Config) -> None:
        shape = conv_shape(kernel)
        assert shape is not None
        conv = sch.get_sblock(CONV)
        loops = sch.get_loops(conv)
        if shape.depthwise:
            n, co, oh, ow, oi, rkh, rkw = loops
            rkw_inner = [rkw]
            outer_order = "oc_oh"
            oc_tile: tuple[int, int] = (shape.oc_blocks, 1)
        else:
            n, co, oh, ow, oi, ric, rkh, rkw, rii = loops
            rkw_inner = [rkw, rii]
            outer_order = config["outer_order"]
            oc_tile = config["tile_oc"]
        co_o, co_i = sch.split(co, factors=[None, oc_tile[1]])
        oh_o, oh_i = sch.split(oh, factors=[None, config["tile_oh"][1]])
        ow_o, ow_i = sch.split(ow, factors=[None, config["tile_ow"][1]])
        outer = [n, co_o, oh_o] if outer_order == "oc_oh" else [n, oh_o, co_o]
        reduction = [rkh, *rkw_inner] if shape.depthwise else [ric, rkh, *rkw_inner]
        sch.reorder(*outer, ow_o, *reduction, co_i, oh_i, ow_i, oi)
        fused = sch.fuse(*outer)
        depth = 2  # loops above the register tile: (fused, ow_outer)
        if common.loop_extent(sch, fused) < 4 * target.num_cores:
            # too few (n, oc, oh) tiles to balance the cores: the column tiles join in
            fused = ow_o = sch.fuse(fused, ow_o)
            depth = 1
        sch.parallel(fused)

        # the accumulator tile lives in registers; the unpack and epilogue write it out
        acc = sch.cache_write(conv, 0, "local")
        sch.reverse_compute_at(acc, ow_o)
        out_block = _fold_epilogue(sch, acc)
        sch.vectorize(oi)
        for loop in (ow_i, oh_i, co_i):
            sch.unroll(loop)
        if config.get("unroll_kw", False):
            sch.unroll(rkw)
        if not shape.depthwise and config["unroll_ic"]:
            sch.unroll(rii)
        tile = {"oc": oc_tile[1], "oh": config["tile_oh"][1], "ow": config["tile_ow"][1],
                "o": shape.ob}
        _schedule_writeback(sch, out_block, depth, tile, config["store"])
        _schedule_pack(sch, fused if config["pack_at"] == "row" else None)
        done = {DATA_PACK, CONV, common.block_name(sch, out_block)}
        for block in common.child_blocks(sch):  # epilogue stages that could not be folded
            if common.block_name(sch, block) not in done:
                common.parallel_vectorize(sch, block, lanes=target.vector_lanes_f32,
                                          cores=target.num_cores)
        sch.decompose_reduction(conv, reduction[0])


def _fold_epilogue(sch: Any, acc: Any) -> Any:
    """reverse_compute_inline the unpack and the epilogue chain into the accumulator write-back
    `acc`; returns the block that now writes the last folded stage (the kernel output when
    everything folded). A stage TVM cannot fold (e.g. a broadcast that reads the conv at
    fewer indices than it writes) stays a separate loop nest, as do the stages after it."""
    out = acc
    while True:
        consumers = list(sch.get_consumers(out))
        if len(consumers) != 1:
            return out
        try:
            sch.reverse_compute_inline(consumers[0])
        except Exception:  # noqa: BLE001 - not foldable: keep it (and what follows) separate
            return out


def _schedule_writeback(sch: Any, block: Any, depth: int, tile: dict[str, int],
                        store: str) -> None:
    """The write-back of one register tile, below the `depth` loops that pick the tile.

    Its loops are the tile's (oc_t, oh_t, ow_t, o) without the unit ones. `store` "o"
    vectorizes the o lanes (their NCHW addresses are a channel plane apart: LLVM transposes
    the tile with shuffles into short row stores); "ow" moves the o loop out and vectorizes
    ow_t (row stores, lane-strided reads of the tile). The rest is unrolled.
    """
    named: list[str] = [name for name in ("oc", "oh", "ow", "o") if tile[name] > 1]
    inner = sch.get_loops(block)[depth:]
    if len(inner) == len(named) + 1:  # the n loop of extent 1, kept
        inner = inner[1:]
    if [common.loop_extent(sch, loop) for loop in inner] != [tile[name] for name in named]:
        named = ["o" if k == len(inner) - 1 else f"l{k}" for k in range(len(inner))]
        tile = {name: common.loop_extent(sch, loop) for name, loop in zip(named, inner)}
    loops = dict(zip(named, inner))
    if store == "ow" and "ow" in loops and "o" in loops:
        order: list[str] = [name for name in ("oc", "o", "oh", "ow") if name in loops]
        sch.reorder(*(loops[name] for name in order))
        vec = "ow"
    else:
        order, vec = named, "o"
    for name in order:
        if name == vec:
            sch.vectorize(loops[name])
        else:
            sch.unroll(loops[name])


def _schedule_pack(sch: Any, at: Any | None) -> None:
    """data_pack [N, C/b, HP, WP, b], vectorized over b: a parallel loop nest of its own
    (`at` None), or computed per iteration of the conv's parallel loop `at` (the rows and
    channel blocks that iteration reads, while they are in cache)."""
    block = sch.get_sblock(DATA_PACK)
    if at is not None:
        sch.compute_at(block, at)
        sch.vectorize(sch.get_loops(block)[-1])
        return
    n, cb, hp, wp, ci = sch.get_loops(block)
    fused = sch.fuse(n, cb, hp)
    sch.parallel(fused)
    sch.vectorize(ci)
