"""Load a compiled artifact and run it: `edgecc.load(OUT)` returns a `CompiledModel`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from edgecc.compiler import read_metadata
from edgecc.errors import EdgeccError, InputError
from edgecc.ir.types import canonical_dtype


class CompiledModel:
    """A compiled model: call it with inputs by name, get outputs by name (numpy arrays)."""

    def __init__(self, out_dir: str | os.PathLike) -> None:
        from edgecc import config, tvm_api

        self.path = Path(out_dir)
        self.metadata = read_metadata(out_dir)
        lib = self.path / self.metadata["library"]
        if not lib.is_file():
            raise EdgeccError(f"artifact {out_dir}: the library {lib.name} is missing")
        config.default_tvm_threads(int(self.metadata["target"]["num_cores"]))
        try:
            self._vm = tvm_api.load_vm(lib)
        except Exception as exc:
            raise EdgeccError(f"cannot load {lib}: {exc}") from exc
        self.inputs = {i["name"]: (tuple(i["shape"]), i["dtype"]) for i in self.metadata["inputs"]}
        self.output_names = [o["name"] for o in self.metadata["outputs"]]
        # per-call work kept small: the function handle and numpy dtypes are looked up once
        self._main = self._vm["main"]
        self._np_dtypes = {n: _np_dtype(d) for n, (_, d) in self.inputs.items()}

    def _args(self, inputs: Mapping[str, Any]) -> list[Any]:
        from edgecc import tvm_api

        missing = [n for n in self.inputs if n not in inputs]
        extra = [n for n in inputs if n not in self.inputs]
        if missing or extra:
            raise InputError(f"inputs: missing {missing}, unknown {extra}; the model takes "
                             f"{list(self.inputs)}")
        args = []
        for name, (shape, dtype) in self.inputs.items():
            arr = np.asarray(inputs[name])
            if arr.shape != shape:
                raise InputError(f"input {name!r}: shape {list(arr.shape)}, expected {list(shape)}")
            want = self._np_dtypes[name]
            if (arr.dtype != want) if want is not None else (canonical_dtype(arr.dtype) != dtype):
                raise InputError(f"input {name!r}: dtype {canonical_dtype(arr.dtype)}, "
                                 f"expected {dtype}")
            args.append(tvm_api.to_device(arr))
        return args

    def __call__(self, inputs: Mapping[str, Any] | None = None, **kwargs: Any
                 ) -> dict[str, np.ndarray]:
        from edgecc import tvm_api

        feeds = dict(inputs or {}, **kwargs)
        result = tvm_api.to_numpy(self._main(*self._args(feeds)))
        values = result if isinstance(result, tuple) else (result,)
        return dict(zip(self.output_names, values))

    def time(self, inputs: Mapping[str, Any], *, number: int = 1, repeat: int = 10,
             min_repeat_ms: int = 0) -> list[float]:
        """Seconds per call, one entry per repeat (TVM's time evaluator)."""
        from edgecc import tvm_api

        return tvm_api.time_vm(self._vm, self._args(inputs), number=number, repeat=repeat,
                               min_repeat_ms=min_repeat_ms)


    def profile(self, *, number: int = 10, repeat: int = 3) -> list[dict[str, Any]]:
        """Time every kernel on its own (random inputs of its shapes): name, ops, ms, MACs."""
        from edgecc import tvm_api
        from edgecc.ir.parser import parse_type

        rng = np.random.default_rng(0)
        lib = self.path / self.metadata["library"]
        rows = []
        for k in self.metadata["kernels"]:
            args = []
            for text in [*k["params"], k["output"]]:
                t = parse_type(text)
                if t.dtype.startswith("float"):
                    arr = rng.standard_normal(t.shape).astype(t.dtype)
                else:
                    arr = np.zeros(t.shape, t.dtype)
                args.append(tvm_api.to_device(arr))
            secs = tvm_api.time_library_function(lib, k["name"], args, number=number,
                                                 repeat=repeat)
            rows.append({"kernel": k["name"], "ops": k["ops"], "template": k["template"],
                         "ms": min(secs) * 1e3, "macs": k["macs"]})
        return rows


def _np_dtype(name: str) -> np.dtype | None:
    """numpy's dtype for an edgecc dtype name, or None when numpy has none (bfloat16)."""
    try:
        return np.dtype(name)
    except TypeError:
        return None


def load(out_dir: str | os.PathLike) -> CompiledModel:
    """Load the artifact folder written by `edgecc compile`."""
    return CompiledModel(out_dir)
