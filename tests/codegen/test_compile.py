"""End to end: compile, load, run against the interpreter; the compile, run and bench CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgecc
from edgecc.cli.main import main
from edgecc.compiler import compile_model, load_reference
from edgecc.errors import EdgeccError, InputError, UnsupportedError
from edgecc.interpreter import run


def _residual_model(path):
    """conv+bn+relu, a residual conv block, global pool, flatten, gemm, softmax."""
    rng = np.random.default_rng(0)

    def w(name, *shape, scale=0.2):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32),
                                       name)

    inits = [w("w1", 16, 3, 3, 3), w("w2", 16, 16, 3, 3), w("fc", 10, 16), w("fcb", 10),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, 16).astype(np.float32), "g"),
             w("b", 16), w("m", 16),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, 16).astype(np.float32), "v")]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "g", "b", "m", "v"], ["n1"]),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["s"]),
        helper.make_node("Relu", ["s"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"]),
    ]
    graph = helper.make_graph(
        nodes, "res", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                ir_version=10), path)
    return str(path)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    folder = tmp_path_factory.mktemp("art")
    model = _residual_model(folder / "res.onnx")
    result = compile_model(model, folder / "out")
    return model, folder / "out", result


def test_artifact_matches_interpreter_and_onnxruntime(artifact):
    import onnxruntime as ort

    model_path, out, result = artifact
    x = np.random.default_rng(1).standard_normal((1, 3, 16, 16)).astype(np.float32)
    compiled = edgecc.load(out)
    got = compiled({"x": x})
    assert list(got) == ["prob", "logits"]
    ref = run(load_reference(out), {"x": x})
    ort_out = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"]).run(
        None, {"x": x})
    for (name, value), o in zip(got.items(), ort_out):
        scale = np.abs(ref[name]).max()
        assert np.abs(value - ref[name]).max() / scale <= 1e-4, name
        assert np.abs(value - o).max() / scale <= 1e-4, name


def test_metadata(artifact):
    _, out, result = artifact
    meta = json.loads((out / "edgecc.json").read_text())
    assert meta["inputs"] == [{"name": "x", "shape": [1, 3, 16, 16], "dtype": "float32"}]
    assert [o["name"] for o in meta["outputs"]] == ["prob", "logits"]
    assert meta["target"]["name"] == "x86" and meta["target"]["vector_bits"] >= 128
    assert meta["tvm"].startswith("0.27") and meta["edgecc_version"] == edgecc.__version__
    assert "fuse-ops" in meta["pipeline"]
    ops = [k["ops"] for k in meta["kernels"]]
    # conv + bias + relu fused; conv + bias + residual add + relu fused
    assert ["nn.conv2d", "nn.relu"] in ops and ["nn.conv2d", "add", "nn.relu"] in ops
    assert all(k["template"] and isinstance(k["config"], dict) for k in meta["kernels"])
    assert meta["peak_activation_bytes"] > 0 and meta["macs"] > 0
    assert meta["compile_seconds"] > 0


def test_wrong_inputs_are_named(artifact):
    _, out, _ = artifact
    compiled = edgecc.load(out)
    with pytest.raises(InputError, match="shape"):
        compiled({"x": np.zeros((1, 3, 8, 8), np.float32)})
    with pytest.raises(InputError, match="dtype"):
        compiled({"x": np.zeros((1, 3, 16, 16), np.float64)})
    with pytest.raises(InputError, match="missing"):
        compiled({})


def test_missing_artifact_files(artifact, tmp_path):
    with pytest.raises(EdgeccError, match="edgecc.json is missing"):
        edgecc.load(tmp_path)
    _, out, _ = artifact
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "edgecc.json").write_text((out / "edgecc.json").read_text())
    with pytest.raises(EdgeccError, match="model.so is missing"):
        edgecc.load(broken)


def test_cli_run_check_and_bench_in_fresh_processes(artifact, tmp_path):
    _, out, _ = artifact
    x = np.random.default_rng(2).standard_normal((1, 3, 16, 16)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    proc = subprocess.run([sys.executable, "-m", "edgecc.cli.main", "run", str(out), "--inputs",
                           str(tmp_path / "in.npz"), "--output", str(tmp_path / "o.npz"),
                           "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "matches the reference interpreter" in proc.stdout
    saved = np.load(tmp_path / "o.npz")
    np.testing.assert_allclose(saved["prob"], edgecc.load(out)({"x": x})["prob"], rtol=1e-6)
    proc = subprocess.run([sys.executable, "-m", "edgecc.cli.main", "bench", str(out), "--json",
                           "--repeat", "5", "--threads", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    bench = json.loads(proc.stdout)
    assert set(bench["latency_ms"]) == {"median", "min", "max"}
    assert bench["threads"] == 1 and bench["target"] == "x86"
    assert bench["artifact_bytes"] > 0 and bench["weights_bytes"] > 0 and bench["macs"] > 0
    assert bench["latency_ms"]["min"] <= bench["latency_ms"]["median"] <= bench["latency_ms"]["max"]
    proc = subprocess.run([sys.executable, "-m", "edgecc.cli.main", "bench", str(out),
                           "--repeat", "2", "--profile"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    kernels = json.loads((out / "edgecc.json").read_text())["kernels"]
    assert all(k["name"] in proc.stdout for k in kernels)
    assert "GFLOP/s" in proc.stdout and "sum of kernels" in proc.stdout


def test_cli_compile_errors(tmp_path, capsys):
    model = _residual_model(tmp_path / "m.onnx")
    assert main(["compile", model, "--target", "sparc", "-o", str(tmp_path / "o")]) == 1
    assert "unknown target 'sparc'" in capsys.readouterr().err
    assert main(["bench", str(tmp_path)]) == 1
    assert "edgecc.json is missing" in capsys.readouterr().err


def test_ops_without_codegen_are_listed_at_once(tmp_path):
    from edgecc.ir.parser import parse_graph

    graph = parse_graph("""
graph @main(%x: f32[4]) -> f32[4] {
  %1 = exp(%x) : f32[4]
  return %1
}""")
    from edgecc.codegen.compute import registry

    saved = registry._TABLE.pop("exp")
    try:
        with pytest.raises(UnsupportedError, match="exp at %1"):
            compile_model(graph, tmp_path / "o")
    finally:
        registry._TABLE["exp"] = saved
