"""TE compute rules: nn.dense with an N-blocked weight (`weight_layout="NK{n}n"`).

    y[..., j] = sum_k x[..., k] * w[j // n, k, j % n]  (+ b[j])

The output keeps the normal layout [..., N]; only the weight is blocked, so that n consecutive
outputs read n consecutive weights for one k (one vector load). The reduction block is named
`dense` like the generic rule's, and the bias is a separate injective block (`dense_bias`)
that schedules inline into the kernel's epilogue.
"""

from __future__ import annotations

from typing import Any

from tvm import te

from edgecc.codegen.compute.common import acc_dtype, cast, dt
from edgecc.codegen.compute.registry import register_compute
from edgecc.ops.nn import dense_block


def _packed(weight_layout: str = "NK", **_: Any) -> bool:
    return weight_layout != "NK"


@register_compute("nn.dense", when=_packed)
def dense_packed(x: Any, w: Any, b: Any = None, *, out_type: Any, weight_layout: str) -> Any:
    """Dense with the weight in `NK{n}n`; output [..., N] in the normal layout."""
    n_block = dense_block(weight_layout)
    assert n_block is not None
    dtype = dt(x)
    acc = acc_dtype(dtype)
    lead = len(x.shape) - 1
    k = te.reduce_axis((0, int(x.shape[-1])), name="k")

    def body(*i: Any) -> Any:
        j = i[lead]
        return te.sum(cast(x[(*i[:lead], k)], acc) * cast(w[j // n_block, k, j % n_block], acc),
                      axis=k)

    y = te.compute(tuple(out_type.shape), body, name="dense")

    def narrow(e: Any) -> Any:  # e is in `acc` (an expression: no dtype to ask for)
        return e if acc == dtype else e.astype(dtype)

    if b is None and acc == dtype:
        return y
    if b is None:
        return te.compute(y.shape, lambda *i: narrow(y(*i)), name="dense_cast")
    return te.compute(y.shape, lambda *i: narrow(y(*i) + cast(b[i[lead]], acc)),
                      name="dense_bias")
