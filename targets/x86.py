"""x86-64 Linux targets: the host, detected through LLVM (cpu, vector width, cores, VNNI)."""

from __future__ import annotations

import os

from edgecc.targets.base import Target


def detect_host(num_cores: int | None = None) -> Target:
    """The machine edgecc runs on, as an x86 target."""
    from edgecc import tvm_api

    triple, cpu = tvm_api.host_cpu()
    cores = num_cores or os.cpu_count() or 1
    # The conda-built LLVM reports its own vendor triple; the code is plain x86-64 Linux.
    triple = "x86_64-linux-gnu" if triple.startswith("x86_64") else triple
    probe = tvm_api.make_target({"kind": "llvm", "mtriple": triple, "mcpu": cpu})
    features = tuple(f for f in ("avx2", "fma", "avx512f", "avx512vnni", "avxvnni")
                     if tvm_api.target_has_feature(probe, f))
    return Target(
        name="x86", family="x86", llvm_triple=triple, mcpu=cpu,
        vector_bits=tvm_api.target_vector_bits(probe), num_cores=cores,
        has_int8_dot=any(f in features for f in ("avx512vnni", "avxvnni")), features=features)
