"""The `edgecc` CLI: run, dump, info, knobs, and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgecc.cli.main import main


def _model(path, dynamic=False):
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "g"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b"),
        numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "m"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "v"),
        numpy_helper.from_array(rng.standard_normal((10, 4)).astype(np.float32), "fc"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"], name="bn"),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc"], ["logits"], transB=1, name="fc"),
    ]
    dims = ["N", 3, 8, 8] if dynamic else [1, 3, 8, 8]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.save(model, path)
    return str(path)


@pytest.fixture
def model(tmp_path):
    return _model(tmp_path / "tiny.onnx")


def test_run_interpreter_matches_onnxruntime(model, tmp_path, capsys):
    import onnxruntime as ort

    x = np.random.default_rng(1).standard_normal((1, 3, 8, 8)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    assert main(["run", model, "--interpreter", "--inputs", str(tmp_path / "in.npz"),
                 "--output", str(tmp_path / "out.npz")]) == 0
    got = np.load(tmp_path / "out.npz")["logits"]
    ref = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    assert "logits: float32[1, 10]" in capsys.readouterr().out


def test_run_a_model_needs_interpreter_or_compile(model, capsys):
    assert main(["run", model]) == 1
    err = capsys.readouterr().err
    assert "not a compiled artifact" in err and "edgecc compile" in err


def test_dump_print_after_all_and_formats(model, tmp_path, capsys):
    assert main(["dump", model, "-O", "2", "--print-after-all", "--pass-timing",
                 "--dump-dir", str(tmp_path / "d")]) == 0
    cap = capsys.readouterr()
    assert "*** IR Dump After fold-batchnorm (changed) ***" in cap.out
    assert "nn.batch_norm" not in cap.out.split("*** Final IR")[1]
    assert "Pass execution timing" in cap.err
    files = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert files[0] == "000_input.ir" and files[-1].endswith("_dce.ir")
    assert main(["dump", model, "--format", "json", "-o", str(tmp_path / "g.json")]) == 0
    data = json.loads((tmp_path / "g.json").read_text())
    assert data["format"] == "edgecc-graph"
    # a JSON graph is a valid MODEL for the CLI (crash reproducers are replayed this way)
    assert main(["dump", str(tmp_path / "g.json"), "--pipeline", "fold-batchnorm",
                 "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith("digraph")


def test_info_counts(model, capsys):
    assert main(["info", model, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    # conv: 4*8*8 outputs * 3*3*3; gemm: 10*4
    assert info["macs"] == 4 * 64 * 27 + 40
    assert info["op_counts"]["nn.conv2d"] == 1
    assert info["params"] == 4 * 27 + 4 * 4 + 40
    assert info["largest_activation"]["bytes"] == 4 * 64 * 4
    assert main(["info", model]) == 0
    text = capsys.readouterr().out
    assert "MACs: 6,952" in text and "largest activation" in text


def test_input_shape_resolves_dynamic_dims(tmp_path, capsys):
    dyn = _model(tmp_path / "dyn.onnx", dynamic=True)
    assert main(["info", dyn]) == 1
    err = capsys.readouterr().err
    assert "dimension 0 is dynamic ('N')" in err and "--input-shape" in err
    assert main(["run", dyn, "--interpreter", "--input-shape", "x=2,3,8,8"]) == 0
    assert "logits: float32[2, 10]" in capsys.readouterr().out
    assert main(["info", dyn, "--input-shape", "x=2,3,9,8"]) == 1
    assert "does not fit" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["info", "missing.onnx"], "model file not found"),
    (["dump", "{model}", "--pipeline", "fold-constant"], "did you mean fold-constants"),
    (["dump", "{model}", "-O", "7"], "no optimization level O7"),
    (["run", "{model}", "--interpreter", "--inputs", "{bad_npz}"], "shape [1, 3, 4, 4]"),
    (["run", "{model}", "--interpreter", "--input-shape", "y=1,2"], "model's inputs are ['x']"),
])
def test_errors_are_one_line(model, tmp_path, capsys, argv, message):
    np.savez(tmp_path / "bad.npz", x=np.zeros((1, 3, 4, 4), np.float32))
    argv = [a.format(model=model, bad_npz=tmp_path / "bad.npz") for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_malformed_file_no_traceback(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01 this is not protobuf" * 10)
    proc = subprocess.run([sys.executable, "-m", "edgecc.cli.main", "info", str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "cannot read" in proc.stderr or "holds no ONNX graph" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "edgecc.cli.main", "info", str(bad)],
                          capture_output=True, text=True, env={"EDGECC_DEBUG": "1",
                                                               "PATH": "/usr/bin:/bin"})
    assert "Traceback" in proc.stderr


def test_knobs_lists_every_knob(capsys):
    from edgecc import config

    assert main(["knobs"]) == 0
    out = capsys.readouterr().out
    assert all(k.env in out for k in config.ALL_KNOBS)
