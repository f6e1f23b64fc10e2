"""The one module that knows TVM 0.27's names for building, exporting, loading and running.

Compute rules (`edgecc.codegen.compute`) and schedule templates (`edgecc.schedules`) use TVM's
`te`, `topi` and `s_tir` directly, as building blocks; everything else goes through here, so the
next TVM API change is this file's work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgecc.errors import EdgeccError


def _tvm() -> Any:
    try:
        import tvm
    except ImportError as exc:  # pragma: no cover - the install pins it
        raise EdgeccError(f"cannot import TVM ({exc}); run scripts/setup.sh") from exc
    return tvm


def make_target(spec: Mapping[str, Any]) -> Any:
    """A `tvm.target.Target` from its JSON-dict form."""
    return _tvm().target.Target(dict(spec))


def host_cpu() -> tuple[str, str]:
    """(LLVM triple, LLVM cpu name) of this machine."""
    from tvm.target import codegen

    return str(codegen.llvm_get_system_triple()), str(codegen.llvm_get_system_cpu())


def target_vector_bits(target: Any) -> int:
    from tvm.target import codegen

    with target:
        return int(codegen.llvm_get_vector_width())


def target_has_feature(target: Any, feature: str) -> bool:
    from tvm.target import codegen

    with target:
        return bool(codegen.llvm_cpu_has_features(feature))


def compile_module(mod: Any, target: Any) -> Any:
    """`tvm.compile` an IRModule (Relax or TIR) for `target`."""
    return _tvm().compile(mod, target=target)


def compile_primfunc(func: Any, target: Any, name: str = "main") -> Any:
    """Compile one PrimFunc as a module whose function is `name`."""
    tvm = _tvm()
    mod = tvm.IRModule({name: func.with_attr("global_symbol", name)})
    return tvm.compile(mod, target=target)


def export_library(executable: Any, path: str | os.PathLike) -> None:
    executable.export_library(str(path))


def load_vm(path: str | os.PathLike) -> Any:
    """Load an exported Relax executable and wrap it in a VirtualMachine on the CPU."""
    tvm = _tvm()
    from tvm import relax

    module = tvm.runtime.load_module(str(path))
    return relax.VirtualMachine(module, tvm.cpu(0))


def to_device(array: np.ndarray) -> Any:
    """A TVM CPU tensor holding a copy of `array`."""
    tvm = _tvm()
    # np.asarray, not np.ascontiguousarray: that one turns a 0-d array into a 1-d one
    return tvm.runtime.tensor(np.asarray(array, order="C"), tvm.cpu(0))


def empty(shape: Sequence[int], dtype: str) -> Any:
    tvm = _tvm()
    return tvm.runtime.empty(tuple(shape), dtype, tvm.cpu(0))


def to_numpy(value: Any) -> Any:
    """A TVM tensor (or a tuple of them) as numpy arrays."""
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("Array", "Tuple"):
        return tuple(to_numpy(v) for v in value)
    return value.numpy()


def time_vm(vm: Any, args: Sequence[Any], *, number: int, repeat: int,
            min_repeat_ms: int = 0) -> list[float]:
    """Seconds per call of the VM's `main`, one entry per repeat."""
    tvm = _tvm()
    fn = vm.time_evaluator("main", tvm.cpu(0), number=number, repeat=repeat,
                           min_repeat_ms=min_repeat_ms)
    return [float(r) for r in fn(*args).results]


def num_threads() -> int:
    """The TVM runtime's thread-pool size (it reads TVM_NUM_THREADS at start-up)."""
    from tvm import runtime

    return int(runtime.num_threads())


def versions() -> dict[str, str]:
    tvm = _tvm()
    import tvm_ffi

    return {"tvm": str(tvm.__version__), "tvm_ffi": str(getattr(tvm_ffi, "__version__", "?"))}



def time_library_function(path: str | os.PathLike, name: str, args: Sequence[Any], *,
                          number: int, repeat: int) -> list[float]:
    """Seconds per call of one function (a kernel) inside an exported library."""
    tvm = _tvm()
    module = tvm.runtime.load_module(str(path))
    if not module.implements_function(name, query_imports=True):
        raise EdgeccError(f"{path} has no function {name!r}")
    owner = next((m for m in (module, *module.imports)
                  if m.implements_function(name, query_imports=False)), None)
    if owner is None:
        owner = module.imports[0]
    fn = owner.time_evaluator(name, tvm.cpu(0), number=number, repeat=repeat)
    return [float(r) for r in fn(*args).results]
