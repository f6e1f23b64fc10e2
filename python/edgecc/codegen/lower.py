"""Lower a `Kernel` to a scheduled TVM PrimFunc: TE computes chained, then a template applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgecc.codegen.compute import get_compute
from edgecc.codegen.kernel import Kernel
from edgecc.errors import CodegenError, EdgeccError
from edgecc.schedules.space import Config
from edgecc.schedules.template import Template, select_template
from edgecc.targets.base import Target


@dataclass
class LoweredKernel:
    kernel: Kernel
    func: Any  # the scheduled tvm PrimFunc, global_symbol = kernel.name
    template: str
    config: Config


def kernel_to_te(kernel: Kernel) -> tuple[list[Any], Any]:
    """TE placeholders for the kernel's params and the TE tensor of its output."""
    from tvm import te

    env: dict[Any, Any] = {}
    placeholders = []
    for i, p in enumerate(kernel.params):
        ph = te.placeholder(p.shape, p.dtype, name=f"p{i}")
        env[p] = ph
        placeholders.append(ph)
    for node in kernel.nodes:
        rule = get_compute(node.op, node.attrs)
        try:
            env[node] = rule(*[env[i] for i in node.inputs], out_type=node.type, **node.attrs)
        except EdgeccError:
            raise
        except Exception as exc:
            raise CodegenError(f"kernel {kernel.name}: the compute rule of %{node.name} "
                               f"({node.op}) failed: {type(exc).__name__}: {exc}") from exc
    out = env[kernel.output]
    if isinstance(out.op, te.PlaceholderOp):  # a kernel that only forwards a param: copy it
        src = out
        out = te.compute(src.shape, lambda *i: src(*i), name="copy")
    return placeholders, out


def kernel_primfunc(kernel: Kernel) -> Any:
    """The unscheduled PrimFunc of a kernel: params..., output."""
    from tvm import te

    placeholders, out = kernel_to_te(kernel)
    return te.create_prim_func([*placeholders, out]).with_attr("global_symbol", kernel.name)


def lower_kernel(kernel: Kernel, target: Target, config: Config | None = None,
                 template: Template | None = None) -> LoweredKernel:
    """Schedule `kernel` with `template` (default: the selected one) and `config` (default:
    the template's default config)."""
    import tvm

    template = template or select_template(kernel, target)
    config = config if config is not None else template.default_config(kernel, target)
    func = kernel_primfunc(kernel)
    sch = tvm.s_tir.Schedule(func)
    try:
        template.apply(sch, kernel, target, config)
    except EdgeccError:
        raise
    except Exception as exc:
        raise CodegenError(
            f"kernel {kernel.name} ({kernel.describe()}): template {template.name} with "
            f"{config} failed: {type(exc).__name__}: {str(exc).strip().splitlines()[-1]}\n"
            f"  workload: {kernel.workload}") from exc
    scheduled = sch.mod["main"].with_attr("global_symbol", kernel.name)
    return LoweredKernel(kernel, scheduled, template.name, config)
